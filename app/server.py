"""gunicorn, started from code for `dealtracker serve`, with the settings of app/gunicorn_conf.py."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    """A gunicorn application whose workers each build the app with create_app()."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        super().__init__()

    def load_config(self) -> None:
        # The same module the compose `api` command loads with `-c python:app.gunicorn_conf`.
        from app import gunicorn_conf

        for key, value in vars(gunicorn_conf).items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)
        for key, value in self.overrides.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from app import create_app

        return create_app()


def run_gunicorn(host: str, port: int, *, workers: int | None = None) -> None:
    """Serve the app on host:port until stopped."""
    overrides: dict[str, Any] = {"bind": [f"{host}:{port}"]}
    if workers:
        overrides["workers"] = workers
    _Gunicorn(overrides).run()
