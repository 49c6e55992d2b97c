"""Log lines: JSON for machines, text in a terminal, one per request, never a credential."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from app import create_app
from app.config import Settings
from app.logs import REQUEST_LOGGER, JsonFormatter, TextFormatter, wants_json


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "dealtracker.test", logging.WARNING, __file__, 1, "hello %s", ("desk",), None
    )
    record.__dict__.update(extra)
    return record


def test_json_is_chosen_without_a_terminal_and_text_in_one() -> None:
    auto = Settings()
    assert wants_json(auto, io.StringIO())
    assert not wants_json(auto, _Terminal())
    assert wants_json(Settings(log_format="json"), _Terminal())
    assert not wants_json(Settings(log_format="text"), io.StringIO())


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields() -> None:
    line = json.loads(JsonFormatter().format(_record(route="/x", status=201)))
    assert line["level"] == "WARNING" and line["logger"] == "dealtracker.test"
    assert line["message"] == "hello desk"
    assert line["time"].endswith("+00:00")
    assert (line["route"], line["status"]) == ("/x", 201)


def test_credentials_passed_as_fields_are_masked() -> None:
    secrets = {
        "authorization": "Bearer dt_abc",
        "token": "dt_abc",
        "password": "pw",
        "SECRET_KEY": "k",
    }
    text = JsonFormatter().format(_record(**secrets))
    assert "dt_abc" not in text and '"pw"' not in text and '"k"' not in text
    assert json.loads(text)["token"] == "[redacted]"


def test_text_lines_are_readable() -> None:
    text = TextFormatter().format(_record(status=200))
    assert "WARNING" in text and "dealtracker.test: hello desk" in text and "status=200" in text
    assert not text.startswith("{")


def test_a_failure_carries_its_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record()
        record.exc_info = sys.exc_info()
    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(record))["exc"]


def test_each_request_is_logged_with_its_id_route_status_and_latency(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(database_url=database_url, env="test"))
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        response = app.test_client().get("/healthz", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == REQUEST_LOGGER]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert (line["route"], line["status"], line["method"]) == ("/healthz", 200, "GET")
    assert line["latency_ms"] >= 0
    assert line["actor"] is None
