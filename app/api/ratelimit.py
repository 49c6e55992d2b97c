"""Rate limiting: a token bucket per API token (or per remote address for anonymous clients).

The buckets live in this process's memory, so with N gunicorn workers a client
can get up to N times the limit; RATE_LIMIT_PER_MINUTE=0 turns limiting off.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request

from app.api.auth import API_PREFIX, identity
from app.api.errors import ApiError

MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Buckets holding up to `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int, float]:
        """Take one request from `key`'s bucket: (allowed, remaining, seconds until one is free)."""
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._buckets.clear()  # crude, but memory stays bounded
                bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
            bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return True, int(bucket.tokens), 0.0
            return False, 0, (1 - bucket.tokens) / rate


def limit_request() -> None:
    """Refuse the request with 429 when its client has used up its bucket."""
    if not request.path.startswith(API_PREFIX) or request.routing_exception is not None:
        return
    buckets = _buckets()
    if buckets is None:
        return
    who = identity()
    key = f"token:{who.id}" if who else f"addr:{request.remote_addr}"
    allowed, remaining, wait = buckets.take(key)
    g.rate_limit = (buckets.per_minute, remaining)
    if not allowed:
        raise ApiError(
            429,
            f"more than {buckets.per_minute} requests a minute; retry after the delay given",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def rate_limit_headers(response: Response) -> Response:
    """Tell the client its limit and what is left of it."""
    limit = g.get("rate_limit")
    if limit is not None:
        response.headers["X-RateLimit-Limit"] = str(limit[0])
        response.headers["X-RateLimit-Remaining"] = str(limit[1])
    return response


def _buckets() -> TokenBuckets | None:
    buckets: TokenBuckets | None = current_app.extensions.get("dealtracker_rate_limit")
    return buckets


def init_app(app: Flask) -> None:
    """Create this app's buckets from RATE_LIMIT_PER_MINUTE."""
    per_minute = app.extensions["dealtracker"].settings.rate_limit_per_minute
    app.extensions["dealtracker_rate_limit"] = TokenBuckets(per_minute) if per_minute else None
    app.after_request(rate_limit_headers)
