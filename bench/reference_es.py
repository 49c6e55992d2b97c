"""The reference for in-process appends: the `eventsourcing` library's PostgreSQL application.

A Deal aggregate records reports; each step gets an aggregate from the repository (replaying
its events), triggers one event with the same payload our appends carry, and saves it: the
library's ordinary way to append one event to an existing stream, one transaction per save.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.timing import Run, Step, run_threads
from bench.writes import report_body


class Deal(Aggregate):
    """A deal whose reports are appended as events."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.reports = 0

    @event("Reported")
    def report(self, data: dict[str, Any], source: dict[str, Any]) -> None:
        """Record one report of the deal."""
        self.reports += 1


class Deals(Application):
    """An application holding Deal aggregates."""


def run(env: Mapping[str, str], seconds: float, deals: int = 200, history: int = 10) -> Run:
    """Time get-report-save of one event on random existing aggregates, on one thread."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # the library reads its settings from the environment too
    try:
        app = Deals(env=dict(env))
        r = random.Random(600)
        ids: list[UUID] = []
        for index in range(deals):
            deal = Deal(title=f"reference deal {index}")
            for _ in range(history - 1):
                body = report_body(r)
                deal.report(data=body["data"], source=body["source"])
            app.save(deal)
            ids.append(deal.id)

        def make(_: int) -> tuple[Step, Callable[[], None]]:
            def step() -> int:
                deal = app.repository.get(r.choice(ids))
                body = report_body(r)
                deal.report(data=body["data"], source=body["source"])
                app.save(deal)
                return 1

            return step, lambda: None

        result = run_threads(1, seconds, make)
        app.close()
        return result
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
