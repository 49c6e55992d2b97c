"""dealtracker: an event-sourced record of who invests in and partners with whom, as the press reports it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.config import Settings


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, database, event store and every blueprint."""
    from app.runtime import Runtime
    from app.store.database import make_engine, resolve_database_url
    from app.store.eventstore import EventStore

    overrides: dict[str, Any] = {}
    if isinstance(config, Settings):
        settings = config
        settings.validate()  # built in code, it skipped the checks from_env makes
    else:
        overrides = dict(config or {})
        env_like = {
            k: str(v) for k, v in overrides.items() if k.isupper() and not isinstance(v, bool)
        }
        env_like.update(
            {k: ("true" if v else "false") for k, v in overrides.items() if isinstance(v, bool)}
        )
        import os

        settings = Settings.from_env({**os.environ, **env_like})

    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})

    url = resolve_database_url(settings)
    engine = make_engine(url, settings)
    clock = overrides.get("clock")
    store = EventStore(engine, clock=clock, lock_timeout_ms=settings.lock_timeout_ms)
    app.extensions["dealtracker"] = Runtime(settings, url, engine, store, clock)

    from app import logs
    from app.ops import ops

    logs.init_app(app)
    app.register_blueprint(ops)
    _register_optional(app)
    return app


def _register_optional(app: Flask) -> None:
    """Register the API and admin blueprints when present."""
    try:
        from app.api import init_app as init_api
    except ImportError:
        pass
    else:
        init_api(app)
    from app.admin import init_app as init_admin

    init_admin(app)
