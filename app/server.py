"""gunicorn, started from code so `dealtracker serve` needs no separate config file."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    """A gunicorn application whose workers each build the app with create_app()."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from app import create_app

        return create_app()


def run_gunicorn(host: str, port: int, *, workers: int | None = None) -> None:
    """Serve the app on host:port until stopped."""
    count = workers or int(os.environ.get("WEB_CONCURRENCY", "2"))
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": count,
            "worker_class": "gthread",
            "threads": int(os.environ.get("GUNICORN_THREADS", "4")),
            "graceful_timeout": 20,
            "timeout": 60,
            "accesslog": None,
        }
    ).run()
