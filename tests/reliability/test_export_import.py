"""Export streams the log as NDJSON; import restores it exactly, or refuses a conflicting log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.config import Settings
from app.demo import load_demo
from app.domain.envelope import NewEvent
from app.service import DealTracker
from app.store.database import make_engine
from app.store.eventstore import EventStore


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def original(databases: Any) -> Iterator[tuple[str, Engine]]:
    url = databases.migrated()
    engine = make_engine(url, Settings())
    load_demo(engine)
    tracker = DealTracker(EventStore(engine))
    tracker.append(
        "org:nova-labs",
        NewEvent(
            "organization.alias_added",
            {"alias": "ノヴァ", "language": "ja"},
            datetime(2025, 5, 1, tzinfo=UTC),
        ),
    )
    yield url, engine
    engine.dispose()


EVENTS = "SELECT position, event_id, stream_id, version, type, schema_version, data, source, metadata, occurred_at, occurred_precision, recorded_at FROM events ORDER BY position"
STATES = [
    "SELECT org_id, version, state FROM organization_view ORDER BY org_id",
    "SELECT deal_id, version, status, state FROM deal_view ORDER BY deal_id",
    "SELECT deal_id, org_id, role FROM deal_party_view ORDER BY 1, 2, 3",
]


def test_export_then_import_into_an_empty_database_restores_everything(
    original, databases, tmp_path: Path
) -> None:
    url, engine = original
    dump = tmp_path / "log.ndjson"
    exported = cli(url, "export", "--output", str(dump))
    assert exported.returncode == 0, exported.stderr
    assert "export" in exported.stderr  # the progress line
    lines = dump.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows(engine, EVENTS))
    assert "노바랩스" in dump.read_text(encoding="utf-8")
    first = json.loads(lines[0])
    assert set(first) >= {
        "event_id",
        "stream_id",
        "version",
        "position",
        "recorded_at",
        "metadata",
        "source",
    }

    target_url = databases.migrated()
    imported = cli(target_url, "import", str(dump))
    assert imported.returncode == 0, imported.stderr
    target = make_engine(target_url, Settings())
    assert rows(target, EVENTS) == rows(engine, EVENTS)
    for sql in STATES:
        assert rows(target, sql) == rows(engine, sql)
    again = cli(target_url, "import", str(dump))
    assert again.returncode == 0 and "imported 0 events" in again.stdout
    target.dispose()


def test_export_after_a_position_streams_only_later_events(original, tmp_path: Path) -> None:
    url, engine = original
    head = rows(engine, "SELECT max(position) FROM events")[0][0]
    done = cli(url, "export", "--after", str(head - 3))
    assert done.returncode == 0, done.stderr
    positions = [json.loads(line)["position"] for line in done.stdout.splitlines()]
    assert positions == [head - 2, head - 1, head]


def test_import_into_a_conflicting_log_is_refused_naming_the_first_conflict(
    original, databases, tmp_path: Path
) -> None:
    url, _ = original
    dump = tmp_path / "log.ndjson"
    assert cli(url, "export", "--output", str(dump)).returncode == 0
    other_url = databases.migrated()
    other = make_engine(other_url, Settings())
    DealTracker(EventStore(other)).append(
        "org:someone-else",
        NewEvent("organization.registered", {"name": "Someone Else", "kind": "other"}),
    )
    before = rows(other, EVENTS)
    refused = cli(other_url, "import", str(dump))
    assert refused.returncode == 1
    first = json.loads(dump.read_text(encoding="utf-8").splitlines()[0])
    assert "position 1" in refused.stderr and first["event_id"] in refused.stderr
    assert rows(other, EVENTS) == before
    other.dispose()
