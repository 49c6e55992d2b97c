"""gunicorn settings for the compose `api` service and `dealtracker serve` alike.

Use with `gunicorn -c python:app.gunicorn_conf "app:create_app()"`. Everything comes
from the environment (see the README's configuration table), validated before any
worker starts.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.config import ConfigError, Settings
from app.logs import logging_config

try:
    _settings = Settings.from_env()
except ConfigError as error:
    # Without this gunicorn prints a traceback and "Failed to read config file".
    print(f"dealtracker: configuration error: {error}", file=sys.stderr, flush=True)
    sys.exit(2)


def _metrics_dir() -> tuple[str, bool]:
    """Return the prometheus multiprocess directory (made if needed, exported to workers)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = given or tempfile.mkdtemp(prefix="dealtracker-metrics-")
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(
            f"dealtracker: configuration error: PROMETHEUS_MULTIPROC_DIR: {error}", file=sys.stderr
        )
        sys.exit(2)
    # prometheus_client reads it when the workers first import it, after the fork.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path, not given


_metrics_path, _metrics_path_is_ours = _metrics_dir()

bind = [f"0.0.0.0:{_settings.port}"]
workers = _settings.web_concurrency
worker_class = "gthread"
threads = _settings.gunicorn_threads
# Long polls wait up to 30 s; on SIGTERM they are let finish before workers are killed.
graceful_timeout = 35
timeout = 60
keepalive = 5
# The heartbeat file on tmpfs, so a slow container disk does not get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None
logconfig_dict = logging_config(_settings)
# gunicornc's control socket would sit in $HOME, which the container user cannot write.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Clear metric files a previous run left, so counters start from zero."""
    for stale in Path(_metrics_path).glob("*.db"):
        stale.unlink(missing_ok=True)


def post_worker_init(worker: Any) -> None:
    """Keep the loaded app out of the garbage collector's full passes.

    A worker holds about 100,000 objects once Flask, SQLAlchemy and the schemas are
    loaded; a full collection walked them all in about 50 ms, in the middle of whichever
    request triggered it (the p99 of state reads). They live as long as the worker.
    """
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """Let the live-gauge files of a dead worker go, so /metrics stops counting it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_path)


def on_exit(server: Any) -> None:
    """Remove the metrics directory made for this run."""
    if _metrics_path_is_ours:
        shutil.rmtree(_metrics_path, ignore_errors=True)
