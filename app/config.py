"""Settings, read from the environment once at start and validated with a clear message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-insecure-change-me"


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads; see the README's configuration table."""

    database_url: str | None = None
    data_dir: Path = Path("var")
    secret_key: str = DEFAULT_SECRET_KEY
    env: str = "development"
    public_reads: bool = False
    log_level: str = "INFO"
    log_format: str = "auto"
    web_concurrency: int = 2
    gunicorn_threads: int = 4
    port: int = 8000
    max_body_bytes: int = 1024 * 1024
    rate_limit_per_minute: int = 600
    lock_timeout_ms: int = 5000
    statement_timeout_ms: int = 30000
    pool_size: int = 10
    snapshot_schedules: str = ""
    snapshot_timezone: str = "UTC"
    snapshot_retention: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables, refusing bad values."""
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("DEALTRACKER_DATA_DIR") or "var"),
            secret_key=env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
            env=env.get("DEALTRACKER_ENV", "development"),
            public_reads=_bool("PUBLIC_READS", env.get("PUBLIC_READS", "false")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            log_format=env.get("LOG_FORMAT", "auto").lower(),
            web_concurrency=_int("WEB_CONCURRENCY", env.get("WEB_CONCURRENCY", "2"), 1),
            gunicorn_threads=_int("GUNICORN_THREADS", env.get("GUNICORN_THREADS", "4"), 1),
            port=_int("PORT", env.get("PORT", "8000"), 1),
            max_body_bytes=_int("MAX_BODY_BYTES", env.get("MAX_BODY_BYTES", "1048576"), 1024),
            rate_limit_per_minute=_int(
                "RATE_LIMIT_PER_MINUTE", env.get("RATE_LIMIT_PER_MINUTE", "600")
            ),
            lock_timeout_ms=_int("LOCK_TIMEOUT_MS", env.get("LOCK_TIMEOUT_MS", "5000"), 1),
            statement_timeout_ms=_int(
                "STATEMENT_TIMEOUT_MS", env.get("STATEMENT_TIMEOUT_MS", "30000"), 1
            ),
            pool_size=_int("DB_POOL_SIZE", env.get("DB_POOL_SIZE", "10"), 1),
            snapshot_schedules=env.get("SNAPSHOT_SCHEDULES", ""),
            snapshot_timezone=env.get("SNAPSHOT_TIMEZONE", "UTC"),
            snapshot_retention=env.get("SNAPSHOT_RETENTION", ""),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError for values the service cannot run with."""
        if self.env not in ("development", "production", "test"):
            raise ConfigError(
                f"DEALTRACKER_ENV must be development, production or test, not {self.env!r}"
            )
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {self.log_level!r}"
            )
        if self.log_format not in ("auto", "json", "text"):
            raise ConfigError(f"LOG_FORMAT must be auto, json or text, not {self.log_format!r}")
        if self.env == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        if self.database_url and not self.database_url.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            raise ConfigError("DATABASE_URL must start with postgresql:// or postgresql+psycopg://")

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (used by tests)."""
        return replace(self, **changes)
