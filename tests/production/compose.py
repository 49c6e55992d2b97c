"""Run the commands of docker-compose.yml as written, on this machine instead of in containers."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
# Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}.
T = TypeVar("T")
_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def load_compose() -> dict[str, Any]:
    """Return docker-compose.yml as parsed by PyYAML (merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Substitute variables the way `docker compose` does."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        current = variables.get(name)
        missing = not current if operator and operator.startswith(":") else current is None
        if operator in (":-", "-") and missing:
            return argument
        if operator in (":?", "?") and missing:
            raise ValueError(f"required variable {name} is missing a value: {argument}")
        return current or ""

    return _VARIABLE.sub(one, value)


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    """One compose service's command and environment, interpolated."""

    name: str
    command: list[str]
    environment: dict[str, str]
    definition: dict[str, Any] = field(repr=False)


def service(name: str, variables: Mapping[str, str]) -> Service:
    """Return a service of docker-compose.yml with `variables` interpolated into it."""
    definition = load_compose()["services"][name]
    environment = {
        key: interpolate(str(value), variables)
        for key, value in (definition.get("environment") or {}).items()
    }
    command = [interpolate(part, variables) for part in definition["command"]]
    return Service(name, command, environment, definition)


def compose_variables(**overrides: str) -> dict[str, str]:
    """Return the variables a user would put in .env: a random SECRET_KEY, and `overrides`."""
    return {"SECRET_KEY": secrets.token_urlsafe(32), **overrides}


def process_env(svc: Service, database_url: str, **overrides: str) -> dict[str, str]:
    """Return this machine's environment plus the service's, pointed at the test database."""
    env = dict(os.environ)
    env.update(svc.environment)
    env["DATABASE_URL"] = database_url
    env.update(overrides)
    # The venv's scripts (gunicorn, dealtracker) first, as the image's are on its PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


class Running:
    """A command started in its own process group, its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.signalled = False
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        """Return everything the process has written so far."""
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """Return the output lines that are JSON objects."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def sigterm(self) -> None:
        """Send SIGTERM once: to gunicorn and procrastinate alike a second one means hurry."""
        if self.process.poll() is None and not self.signalled:
            self.process.send_signal(signal.SIGTERM)
        self.signalled = True

    def terminate(self, timeout: float = 40) -> int:
        """Send SIGTERM (if not sent yet) and return the exit status."""
        self.sigterm()
        return self.wait(timeout)

    def wait(self, timeout: float) -> int:
        """Wait for the exit status; SIGKILL the process group if it hangs."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(10)


def get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """GET a URL; return status, headers and body, also for 4xx and 5xx."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_up(running: Running, base_url: str, timeout: float = 30) -> None:
    """Wait until /healthz answers, failing with the output if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"exited with {running.process.returncode}:\n{running.output()}")
        try:
            if get(f"{base_url}/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no answer within {timeout} s:\n{running.output()}")


def eventually(read: Callable[[], T], timeout: float = 5) -> T:
    """Return read() once it is truthy (log lines reach the file a moment after the response)."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            assert found, f"nothing within {timeout} s"
            return found
        time.sleep(0.05)
