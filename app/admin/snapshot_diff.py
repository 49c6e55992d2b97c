"""A snapshot diff as a reader wants it: named rows, whole amounts, and a count of timeline noise."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.admin.display import money, when

# Paths that change with every event; the diff counts them instead of listing each one.
NOISY = frozenset({"history", "version", "event_count", "sources"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_NAMES = ("title", "name", "deal_id", "alias", "metric", "id")
_MISSING = object()


def readable(
    part: Mapping[str, Any], old_states: Mapping[str, Any], new_states: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn one kind's diff (organizations or deals) into rows: what, before, after."""
    changed = []
    for entity in part.get("changed", []):
        old, new = old_states.get(entity["id"], {}), new_states.get(entity["id"], {})
        rows: dict[str, tuple[str, str, str]] = {}
        quiet = 0
        for change in entity["changes"]:
            keys = change["path"].split(".")
            if keys[0] in NOISY:
                quiet += 1
                continue
            keys = _whole_amount(keys, old, new)
            label = _label(keys, old, new)
            rows.setdefault(label, (label, show(_at(old, keys)), show(_at(new, keys))))
        changed.append({"id": entity["id"], "rows": list(rows.values()), "quiet": quiet})
    return {"added": part.get("added", []), "removed": part.get("removed", []), "changed": changed}


def _at(state: Any, keys: Sequence[str]) -> Any:
    """Return the value at a diff path, or None where it does not exist."""
    for key in keys:
        if isinstance(state, Mapping):
            state = state.get(key, _MISSING)
        elif isinstance(state, list) and key.isdigit() and int(key) < len(state):
            state = state[int(key)]
        else:
            state = _MISSING
        if state is _MISSING:
            return None
    return state


def _is_money(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "amount" in value and "currency" in value
    return isinstance(value, list) and bool(value) and all(_is_money(item) for item in value)


def _whole_amount(keys: list[str], old: Any, new: Any) -> list[str]:
    """Climb from a leaf such as total_invested.0.amount to the amount it is part of."""
    for end in range(1, len(keys) + 1):
        if _is_money(_at(new, keys[:end])) or _is_money(_at(old, keys[:end])):
            return keys[:end]
    return keys


def _label(keys: Sequence[str], old: Any, new: Any) -> str:
    """Name a path in words, list items by their title or name rather than their index."""
    words = []
    for end, key in enumerate(keys, start=1):
        if key.isdigit():
            item = _at(new, keys[:end]) or _at(old, keys[:end])
            name = next(
                (item[n] for n in _NAMES if isinstance(item, Mapping) and item.get(n)), None
            )
            words.append(str(name) if name else f"#{int(key) + 1}")
        else:
            words.append(key.replace("_", " "))
    return " › ".join(words)


def show(value: Any) -> str:
    """Write one value of a diff: amounts exactly, times at a glance, the rest compactly."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_money(value):
        return money(value)
    if isinstance(value, Mapping) and "percent" in value:
        return f"{value['percent']}%"
    if isinstance(value, Mapping) and "value" in value:
        return show(value["value"])
    if isinstance(value, str):
        return when(value) if _TIMESTAMP.match(value) else value
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:200] + "…"
