"""`dealtracker users create` prompts for the password or reads it from standard input."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from app.admin.accounts import authenticate
from app.cli import main


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """Point the command line at the test database; put logging back as it was afterwards."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DEALTRACKER_ENV", "test")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers  # main() logs to the stderr that capsys is about to close
    root.setLevel(level)


@pytest.mark.usefixtures("cli_env")
def test_users_create_reads_the_password_from_stdin(
    app: Flask, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    username = f"cli-{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a password from stdin\n"))
    assert (
        main(["users", "create", "--username", username, "--role", "admin", "--password-stdin"])
        == 0
    )
    assert f"created admin {username}" in capsys.readouterr().out
    engine = app.extensions["dealtracker"].engine
    assert authenticate(engine, username, "a password from stdin") is not None
    assert main(["users", "list"]) == 0
    assert f"{username}\tadmin\tactive" in capsys.readouterr().out


@pytest.mark.usefixtures("cli_env")
def test_users_create_prompts_twice_and_refuses_a_mismatch(
    app: Flask, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["first password!", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    username = f"cli-{uuid.uuid4().hex[:6]}"
    assert main(["users", "create", "--username", username, "--role", "editor"]) == 2
    assert "differ" in capsys.readouterr().err
    answers = iter(["same password!", "same password!"])
    assert main(["users", "create", "--username", username, "--role", "editor"]) == 0
    engine = app.extensions["dealtracker"].engine
    assert authenticate(engine, username, "same password!") is not None


@pytest.mark.usefixtures("cli_env")
def test_users_create_refuses_a_short_password_and_a_taken_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    username = f"cli-{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(["users", "create", "--username", username, "--role", "reader", "--password-stdin"])
        == 2
    )
    assert "at least 10 characters" in capsys.readouterr().err
    for expected in (0, 2):
        monkeypatch.setattr("sys.stdin", io.StringIO("long enough password\n"))
        args = ["users", "create", "--username", username, "--role", "reader", "--password-stdin"]
        assert main(args) == expected
    assert "is taken" in capsys.readouterr().err
