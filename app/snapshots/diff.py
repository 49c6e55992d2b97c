"""What changed between two global states: organizations and deals added, removed and changed (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_MISSING = object()


def diff_states(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Return, for organizations and deals, the ids added and removed and each change of the rest."""
    return {
        kind: diff_entities(old.get(kind) or {}, new.get(kind) or {})
        for kind in ("organizations", "deals")
    }


def diff_entities(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Compare two {id: state} maps."""
    changed = []
    for key in sorted(old.keys() & new.keys()):
        changes = list(changes_between(old[key], new[key]))
        if changes:
            changed.append({"id": key, "changes": changes})
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": changed,
    }


def changes_between(old: Any, new: Any, path: str = "") -> Iterator[dict[str, Any]]:
    """Yield {path, old, new} for each leaf that differs; paths look like `total_invested.0.amount`."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(old.keys() | new.keys(), key=str):
            yield from _pair(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            before = old[index] if index < len(old) else _MISSING
            after = new[index] if index < len(new) else _MISSING
            yield from _pair(before, after, _join(path, index))
    elif old != new:
        yield {"path": path, "old": old, "new": new}


def _pair(old: Any, new: Any, path: str) -> Iterator[dict[str, Any]]:
    if old is _MISSING or new is _MISSING:
        # A field or list item that appears or disappears is one change, not one per leaf.
        yield {
            "path": path,
            "old": None if old is _MISSING else old,
            "new": None if new is _MISSING else new,
        }
    else:
        yield from changes_between(old, new, path)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
