"""Sixteen clients on a few hot streams: no 5xx, only real conflicts, versions and the log whole.

The run lasts RELIABILITY_LOAD_SECONDS (20 by default, so CI keeps it; the issue's
60 s is `RELIABILITY_LOAD_SECONDS=60`).
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from tests.reliability.conftest import seconds_from_env
from tests.reliability.harness import (
    Gunicorn,
    Reply,
    assert_log_is_whole,
    assert_read_models_equal_a_rebuild,
    call,
    engine_on,
)
from tests.reliability.writers import editor_headers, open_deals, report

CLIENTS = 16
LOAD_SECONDS = seconds_from_env("RELIABILITY_LOAD_SECONDS", 20)
EXPECTED = {200, 201, 304, 409, 412}


@dataclass
class Tally:
    """What one client saw."""

    statuses: dict[tuple[str, int], int] = field(default_factory=dict)
    appended: list[dict[str, Any]] = field(default_factory=list)
    false_conflicts: list[tuple[int, Any]] = field(default_factory=list)
    oddities: list[tuple[str, int, bytes]] = field(default_factory=list)

    def count(self, what: str, reply: Reply) -> None:
        key = (what, reply.status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if reply.status not in EXPECTED:
            self.oddities.append((what, reply.status, reply.body[:300]))


class Client:
    """A newsroom tool: reads state, appends with the version it saw, browses lists and the log."""

    def __init__(self, base: str, headers: dict[str, str], deals: list[str], org: str, seed: int):
        self.base, self.headers, self.deals, self.org = base, headers, deals, org
        self.rng = random.Random(seed)
        self.tally = Tally()

    def run(self, until: float) -> None:
        actions = [self.append_seen_version] * 4 + [self.append_if_match] * 2
        actions += [self.batch_on_two_deals, self.read_state, self.read_lists, self.read_history]
        while time.monotonic() < until:
            try:
                self.rng.choice(actions)()
            except (OSError, http.client.HTTPException) as error:
                self.tally.oddities.append(("connection", 0, repr(error).encode()))

    def get(self, what: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        reply = call(self.base, "GET", path, None, {**self.headers, **(headers or {})}, 30)
        self.tally.count(what, reply)
        return reply

    def version_of(self, deal: str) -> int:
        reply = self.get("state", f"/api/v1/deals/{deal}")
        return int(reply.json()["state"]["version"]) if reply.status == 200 else 0

    def post(self, what: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Reply:
        reply = call(self.base, "POST", path, body, {**self.headers, **(headers or {})}, 30)
        self.tally.count(what, reply)
        return reply

    def append_seen_version(self) -> None:
        deal = self.rng.choice(self.deals)
        seen = self.version_of(deal)
        body = {**report(f"load-{uuid.uuid4().hex}", self.rng.randint(1, 10**6))}
        body["expected_version"] = seen
        reply = self.post("append", f"/api/v1/deals/{deal}/events", body)
        self.check_write(reply, seen, 409)

    def append_if_match(self) -> None:
        deal = self.rng.choice(self.deals)
        seen = self.version_of(deal)
        body = report(f"load-{uuid.uuid4().hex}", self.rng.randint(1, 10**6))
        headers = {"If-Match": f'"{seen}"'}
        reply = self.post("if-match", f"/api/v1/deals/{deal}/events", body, headers)
        self.check_write(reply, seen, 412)

    def batch_on_two_deals(self) -> None:
        first, second = self.rng.sample(self.deals, 2)
        seen = {first: self.version_of(first), second: self.version_of(second)}
        marker = f"load-{uuid.uuid4().hex}"
        events = [
            {"stream_id": f"deal:{deal}", "expected_version": seen[deal], **report(marker, 5)}
            for deal in (first, second)
        ]
        reply = self.post("batch", "/api/v1/batches", {"events": events})
        if reply.status == 201:
            self.tally.appended.extend(reply.json()["events"])
        elif reply.status == 409:
            body = reply.json()
            stream = body.get("stream_id", "")
            expected = seen.get(stream.removeprefix("deal:"))
            if body.get("current_version") == expected:
                self.tally.false_conflicts.append((409, body))

    def check_write(self, reply: Reply, seen: int, conflict_status: int) -> None:
        if reply.status == 201:
            self.tally.appended.append(reply.json())
        elif reply.status == conflict_status:
            body = reply.json()
            current = body.get("current_version")
            if not isinstance(current, int) or current == seen:
                self.tally.false_conflicts.append((reply.status, body))

    def read_state(self) -> None:
        deal = self.rng.choice(self.deals)
        first = self.get("state", f"/api/v1/deals/{deal}")
        if first.status == 200 and self.rng.random() < 0.5:
            self.get("state", f"/api/v1/deals/{deal}", {"If-None-Match": first.headers["etag"]})
        self.get("org", f"/api/v1/organizations/{self.org}")

    def read_lists(self) -> None:
        self.get("list", f"/api/v1/deals?party={self.org}&limit=10")
        self.get("search", "/api/v1/organizations?q=org&limit=10")

    def read_history(self) -> None:
        self.get("history", f"/api/v1/deals/{self.rng.choice(self.deals)}/events?limit=20")


class Tailer:
    """Follows the global log from the start, checking every page continues the last one exactly."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers
        self.seen: list[int] = []
        self.problems: list[str] = []

    def follow(self, until: float) -> None:
        while time.monotonic() < until:
            self.page(wait=1)

    def page(self, wait: float = 0) -> int:
        after = self.seen[-1] if self.seen else 0
        path = f"/api/v1/events?after={after}&limit=200&wait={wait}"
        reply = call(self.base, "GET", path, None, self.headers, 60)
        if reply.status != 200:
            self.problems.append(f"log read answered {reply.status}")
            return 0
        positions = [item["position"] for item in reply.json()["items"]]
        if positions != list(range(after + 1, after + 1 + len(positions))):
            self.problems.append(f"after {after} the log gave {positions[:10]}")
        self.seen.extend(positions)
        return len(positions)


def test_sixteen_clients_on_hot_streams_get_no_5xx_and_only_real_conflicts(
    databases, gunicorn: Callable[..., Gunicorn]
) -> None:
    url = databases.migrated()
    server = gunicorn(url)
    with engine_on(url) as engine:
        headers = editor_headers(engine)
        deals = open_deals(server.base, headers, 3)
        with engine.connect() as conn:
            org = conn.execute(
                text("SELECT org_id FROM organization_view ORDER BY org_id LIMIT 1")
            ).scalar_one()
        clients = [Client(server.base, headers, deals, org, seed) for seed in range(CLIENTS)]
        tailer = Tailer(server.base, headers)
        until = time.monotonic() + LOAD_SECONDS
        threads = [threading.Thread(target=c.run, args=(until,)) for c in clients]
        threads.append(threading.Thread(target=tailer.follow, args=(until,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(LOAD_SECONDS + 120)

        oddities = [o for c in clients for o in c.tally.oddities]
        assert not oddities, f"{len(oddities)} unexpected answers, e.g. {oddities[:5]}"
        false_conflicts = [f for c in clients for f in c.tally.false_conflicts]
        assert not false_conflicts, f"conflicts that were not: {false_conflicts[:5]}"
        statuses: dict[tuple[str, int], int] = {}
        for c in clients:
            for key, n in c.tally.statuses.items():
                statuses[key] = statuses.get(key, 0) + n
        assert statuses.get(("append", 201), 0) > 20, statuses
        assert statuses.get(("append", 409), 0) + statuses.get(("if-match", 412), 0) > 0, statuses

        while tailer.page():
            pass
        assert not tailer.problems, tailer.problems[:5]
        appended = [e for c in clients for e in c.tally.appended]
        with engine.connect() as conn:
            logged = {
                str(r.event_id): (r.stream_id, r.version, r.position)
                for r in conn.execute(
                    text("SELECT event_id, stream_id, version, position FROM events")
                )
            }
        assert tailer.seen == list(range(1, len(logged) + 1))
        for event in appended:
            assert logged[event["event_id"]] == (
                event["stream_id"],
                event["version"],
                event["position"],
            )
        assert_log_is_whole(engine)
        assert_read_models_equal_a_rebuild(engine)
