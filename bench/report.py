"""The one table the benchmark prints, and its JSON form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One measurement against its reference from the same run.

    `ratio` is a speed ratio, ours over the reference for throughput and the reference over
    ours for latency, so above 1 always means ours is faster.
    """

    name: str
    ours: str
    reference: str
    ratio: float
    target: str
    holds: bool | None
    detail: dict[str, Any] = field(default_factory=dict)


def throughput(
    name: str,
    ours: float,
    reference: float,
    ref_name: str,
    unit: str,
    target: float | None,
    **detail: Any,
) -> Row:
    """Return a row comparing two rates (higher is better)."""
    ratio = ours / reference if reference else 0.0
    return Row(
        name,
        f"{ours:,.0f} {unit}",
        f"{reference:,.0f} {unit} ({ref_name})",
        ratio,
        f"≥ {target:g}" if target is not None else "report",
        None if target is None else ratio >= target,
        {"ours_per_second": ours, "reference_per_second": reference, **detail},
    )


def render(rows: list[Row]) -> str:
    """Return the rows as a Markdown table."""
    lines = [
        "| row | ours | reference | ratio | target | holds |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        holds = "—" if row.holds is None else ("yes" if row.holds else "**no**")
        lines.append(
            f"| {row.name} | {row.ours} | {row.reference} | {row.ratio:.2f} | {row.target} | {holds} |"
        )
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], context: dict[str, Any]) -> None:
    """Write the rows and the run's context (machine, sizes, durations) as JSON."""
    document = {"context": context, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
