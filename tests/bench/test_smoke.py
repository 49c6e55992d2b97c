"""`python -m bench` keeps working: a tiny run prints every row with a ratio (no timing asserts)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROW_PREFIXES = (
    "single append over HTTP",
    "single append, framework floor",
    "batch append over HTTP",
    "batch append, physical limit",
    "in-process append (EventStore.append)",
    "in-process append, validated + projected",
    "full rebuild of read models",
    "global log read",
    "deal state read, current,",
    "deal state read, as_of,",
    "deal state read, known_at,",
)

pytest.importorskip("eventsourcing", reason="the bench extra is not installed")


@pytest.mark.slow
def test_a_tiny_benchmark_run_prints_every_row_with_a_ratio(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--events", "1000", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    for prefix in ROW_PREFIXES:
        found = [row for row in rows if row["name"].startswith(prefix)]
        assert found, f"no row {prefix!r} in {[row['name'] for row in rows]}"
        for row in found:
            assert isinstance(row["ratio"], float) and math.isfinite(row["ratio"]), row
            assert row["ratio"] > 0, row
    assert "| row | ours | reference | ratio |" in run.stdout
    assert all(row["name"] in run.stdout for row in rows)
