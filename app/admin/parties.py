"""Choosing a deal's parties by search: type a name, an alias or an id, then pick among the matches."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from app.admin.forms import FormData, FormErrors
from app.domain.events import SLUG_RE
from app.service import DealTracker

ROLES = {
    "investment": (("investor", "Investor"), ("investee", "Investee")),
    "acquisition": (("acquirer", "Acquirer"), ("target", "Target")),
    "partnership": tuple((f"member_{n}", f"Member {n}") for n in range(1, 5)),
}
REQUIRED_MEMBERS = 2


@dataclass
class Party:
    """One party input: what was typed, the organization chosen, or the matches to pick from."""

    role: str
    label: str
    typed: str = ""
    chosen: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _names(org: dict[str, Any]) -> set[str]:
    aliases = [a.get("alias", "") if isinstance(a, dict) else str(a) for a in org["aliases"]]
    return {_key(org["id"]), _key(org.get("name") or ""), *(_key(a) for a in aliases)}


def find_party(service: DealTracker, typed: str, picked: str = "") -> Party:
    """Resolve one party: a picked match, an exact id, name or alias, or else the matches."""
    party = Party(role="", label="", typed=typed.strip())
    wanted = picked.strip() or party.typed
    if not wanted:
        return party
    found = service.search_organizations(wanted, limit=8)
    exact = [org for org in found if _key(wanted) in _names(org)]
    if picked and SLUG_RE.fullmatch(picked):
        exact = [org for org in found if org["id"] == picked] or exact
    if len(exact) == 1:
        party.chosen = exact[0]
        party.typed = exact[0]["id"]
    else:
        party.candidates = found
    return party


def read_parties(
    service: DealTracker, kind: str, form: FormData, errors: FormErrors
) -> tuple[list[Party], dict[str, Any]]:
    """Return every party input of a deal kind, and the parties object for deal.opened."""
    parties = []
    for role, label in ROLES[kind]:
        party = find_party(service, form.get(role, ""), form.get(f"{role}_pick", ""))
        party.role, party.label = role, label
        parties.append(party)
        if party.chosen is None and party.candidates:
            errors.add(
                role, f"Pick the organization you mean among the matches for {party.typed!r}."
            )
        elif party.chosen is None and party.typed:
            errors.add(role, f"No organization matches {party.typed!r}; register it first.")
    chosen = {p.role: p.chosen["id"] for p in parties if p.chosen is not None}
    if kind == "partnership":
        members = list(dict.fromkeys(chosen.values()))
        if len(members) < REQUIRED_MEMBERS and not errors:
            errors.add("member_1", "A partnership needs at least two different members.")
        return parties, {"members": members}
    for party in parties:
        if party.chosen is None and not party.typed:
            errors.add(party.role, "required: type a name, an alias or an id, then pick")
    return parties, chosen
