"""Writers that keep sending single events and batches, each with an Idempotency-Key, and remember every answer."""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from typing import Any

from sqlalchemy import Engine, text

from app.store.tokens import create_token
from tests.reliability.harness import Reply, Sent, call

SOURCE = {"publisher": "Example Wire", "url": "https://example.com/a", "attribution": "official"}
SETTLED = {200, 201}


def editor_headers(engine: Engine) -> dict[str, str]:
    """Create an editor token and return its Authorization header."""
    token = create_token(engine, role="editor", name=f"writer-{uuid.uuid4().hex[:6]}")
    return {"Authorization": f"Bearer {token}"}


def open_deals(base: str, headers: dict[str, str], count: int) -> list[str]:
    """Register two organizations and open `count` deals between them, over HTTP."""
    suffix = uuid.uuid4().hex[:8]
    investor, investee = f"inv-{suffix}", f"tgt-{suffix}"
    for org_id in (investor, investee):
        body = {"id": org_id, "name": f"Org {org_id}", "kind": "company"}
        reply = call(base, "POST", "/api/v1/organizations", body, headers)
        assert reply.status == 201, reply.body
    deals = []
    for index in range(count):
        deal_id = f"deal-{suffix}-{index}"
        body = {
            "id": deal_id,
            "kind": "investment",
            "title": f"{investor} invests in {investee} ({index})",
            "parties": {"investor": investor, "investee": investee},
            "source": SOURCE,
        }
        reply = call(base, "POST", "/api/v1/deals", body, headers)
        assert reply.status == 201, reply.body
        deals.append(deal_id)
    return deals


def report(marker: str, amount: int) -> dict[str, Any]:
    """Return an investment.reported body whose source title marks the request that sent it."""
    return {
        "type": "investment.reported",
        "occurred_at": "2024-03-27T00:00:00Z",
        "data": {
            "status": "completed",
            "amount": {"amount": str(amount), "currency": "USD"},
            "amount_basis": "tranche",
        },
        "source": {**SOURCE, "title": marker},
    }


def new_write(deals: list[str], rng: random.Random) -> Sent:
    """Make a single append (60 %) or a batch of 2 to 4 events over several deals."""
    marker = f"req-{uuid.uuid4().hex}"
    if rng.random() < 0.6:
        deal = rng.choice(deals)
        body = report(marker, rng.randint(1, 10**9))
        return Sent(f"/api/v1/deals/{deal}/events", body, uuid.uuid4().hex, marker, 1)
    size = rng.randint(2, 4)
    events = [
        {"stream_id": f"deal:{rng.choice(deals)}", **report(marker, rng.randint(1, 10**9))}
        for _ in range(size)
    ]
    return Sent("/api/v1/batches", {"events": events}, uuid.uuid4().hex, marker, size)


def send(base: str, headers: dict[str, str], write: Sent, timeout: float = 15) -> Reply | None:
    """Send a write once with its key; remember the answer, or the error when none came."""
    try:
        reply = call(
            base, "POST", write.path, write.body, {**headers, "Idempotency-Key": write.key}, timeout
        )
    except (OSError, http.client.HTTPException) as error:
        write.errors.append(type(error).__name__)
        return None
    write.replies.append(reply)
    return reply


class Writers:
    """Threads that each send a new write and retry it with its key, as a careful client would."""

    def __init__(self, base: str, headers: dict[str, str], deals: list[str], threads: int) -> None:
        self.base = base
        self.headers = headers
        self.deals = deals
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(threads)
        ]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stop.is_set():
            write = new_write(self.deals, rng)
            with self._lock:
                self.sent.append(write)
            deliver(self.base, self.headers, write, time.monotonic() + 45)

    def acknowledged(self) -> int:
        """Count the writes answered 2xx so far."""
        with self._lock:
            return sum(1 for write in self.sent if write.acknowledged)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Wait until `count` more writes have been acknowledged."""
        target = self.acknowledged() + count
        deadline = time.monotonic() + timeout
        while self.acknowledged() < target:
            assert time.monotonic() < deadline, "the writers made no progress"
            time.sleep(0.02)


def deliver(base: str, headers: dict[str, str], write: Sent, deadline: float) -> None:
    """Send a write, and again with the same key after errors, until it is answered 2xx or 4xx."""
    while time.monotonic() < deadline:
        reply = send(base, headers, write)
        if reply is not None and (reply.status in SETTLED or is_final_refusal(reply)):
            return
        time.sleep(0.2)


def is_final_refusal(reply: Reply) -> bool:
    """Tell a 4xx that retrying cannot change from one that asks to retry (a key in flight)."""
    return 400 <= reply.status < 500 and "Retry-After" not in {k.title() for k in reply.headers}


def settle(base: str, headers: dict[str, str], writes: list[Sent], timeout: float) -> None:
    """Retry every write without a final answer, with its own key and body, until it gets one."""
    deadline = time.monotonic() + timeout
    for write in writes:
        if not write.acknowledged:
            deliver(base, headers, write, deadline)
    unanswered = [w for w in writes if not w.acknowledged]
    assert not unanswered, (
        f"{len(unanswered)} writes got no 2xx in {timeout} s of retries with their keys;"
        f" last answers: {[(w.replies[-1].status, w.replies[-1].body[:300]) for w in unanswered[:3] if w.replies]}"
    )


def acknowledged_ids(reply: Reply) -> list[str]:
    """Return the event ids a 2xx answer to a single append or a batch gives."""
    body = reply.json()
    return [e["event_id"] for e in body["events"]] if "events" in body else [body["event_id"]]


def head(engine: Engine) -> int:
    """Return the log's head position."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())
