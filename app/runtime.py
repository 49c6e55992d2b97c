"""What a running app holds: settings, the engine and the event store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Engine

from app.config import Settings
from app.store.eventstore import EventStore


@dataclass
class Runtime:
    """The app's long-lived collaborators, built once by create_app."""

    settings: Settings
    database_url: str
    engine: Engine
    store: EventStore
    clock: Callable[[], datetime] | None = None


def runtime() -> Runtime:
    """Return the Runtime of the current Flask app."""
    found: Runtime = current_app.extensions["dealtracker"]
    return found
