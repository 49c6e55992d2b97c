"""Logging: JSON lines for machines, readable text in a terminal, and one line per request."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request, request_started

from app.config import Settings

REQUEST_LOGGER = "dealtracker.request"
_HANDLER_NAME = "dealtracker"
# Anything named like a credential is masked, whoever passes it in `extra`.
_SENSITIVE = re.compile(r"authorization|token|password|passwd|secret|cookie|session", re.IGNORECASE)
# Alembic reports its plugins and dialect at INFO each time /readyz checks the revision.
_QUIET = {"alembic": "WARNING"}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,200}")
# The attributes every LogRecord has; anything else came in through `extra`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields passed through `extra`, credentials masked."""
    fields: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _RECORD_ATTRS or key.startswith("_"):
            continue
        fields[key] = "[redacted]" if _SENSITIVE.search(key) else value
    if "request_id" not in fields and has_request_context():
        fields["request_id"] = current_request_id()
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line for a terminal: time, level, logger, message, then key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as text."""
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items() if v is not None)
        if fields:
            line = f"{line}  [{fields}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def wants_json(settings: Settings, stream: IO[str] | None = None) -> bool:
    """Tell whether to write JSON: LOG_FORMAT=json, or `auto` without a terminal."""
    if settings.log_format != "auto":
        return settings.log_format == "json"
    target = stream or sys.stderr
    return not (hasattr(target, "isatty") and target.isatty())


def logging_config(settings: Settings) -> dict[str, Any]:
    """Return the dictConfig of the process: root and gunicorn's loggers on one stderr handler."""
    formatter = JsonFormatter if wants_json(settings) else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {_HANDLER_NAME: {"()": f"{formatter.__module__}.{formatter.__name__}"}},
        "handlers": {
            _HANDLER_NAME: {
                "class": "logging.StreamHandler",
                "formatter": _HANDLER_NAME,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": settings.log_level, "handlers": [_HANDLER_NAME]},
        "loggers": {
            "gunicorn.error": {"level": settings.log_level, "handlers": [], "propagate": True},
            # The app logs each request itself, with its id, route and actor.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{name: {"level": level} for name, level in _QUIET.items()},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Send every log record of this process to stderr in the configured format."""
    root = logging.getLogger()
    # Replace only our own handler, so a second call (or pytest's capture) is left alone.
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if wants_json(settings) else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)


def current_request_id() -> str | None:
    """Return the current request's id: the API's, else a sane X-Request-ID header."""
    found = g.get("request_id")
    if found:
        return str(found)
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.fullmatch(given) else None


def _actor() -> str | None:
    """Return who made the request: the API's token identity or the admin page's user."""
    actor = g.get("actor")
    if actor:
        return str(actor)
    identity = g.get("identity")
    name = getattr(identity, "name", None)
    return str(name) if name else None


def _mark_start(_sender: Flask, **_extra: Any) -> None:
    g.log_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    """Log one line per request: method, path, route, status, latency, request id and actor."""
    started = g.get("log_started")
    latency_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    rule = request.url_rule
    fields = {
        "request_id": current_request_id(),
        "method": request.method,
        # The path without its query string, which may hold anything a client typed.
        "path": request.path,
        "route": rule.rule if rule is not None else None,
        "status": response.status_code,
        "latency_ms": latency_ms,
        "actor": _actor(),
    }
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    message = f"{request.method} {request.path} {response.status_code}"
    logging.getLogger(REQUEST_LOGGER).log(level, message, extra=fields)
    return response


def init_app(app: Flask) -> None:
    """Log every request the app answers."""
    request_started.connect(_mark_start, app)
    app.after_request(_log_request)
