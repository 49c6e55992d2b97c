"""Deals: the filtered list, opening a deal with parties chosen by search, and the deal page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from app.admin.blueprint import actor, admin, moment, page_after, read_at, tracker
from app.admin.entry import ENVELOPE_FIELDS, occurred_or_today, read_source
from app.admin.fields import form_fields, recordable_types
from app.admin.forms import FormData, FormErrors
from app.admin.parties import ROLES, Party, find_party, read_parties
from app.admin.security import requires
from app.domain.envelope import ATTRIBUTIONS, NewEvent
from app.domain.events import DEAL_KINDS, SLUG_RE, ValidationFailed, normalize_new_event, slugify
from app.runtime import runtime
from app.service import NotFound

PAGE = 50
STATUSES = sorted(
    {status for kind in DEAL_KINDS for status in form_fields(f"{kind}.reported")[0].choices}
)


@admin.get("/deals")
@requires("reader")
def deals() -> ResponseReturnValue:
    """List deals filtered by party, type and status."""
    args = request.args
    kind = args.get("kind") if args.get("kind") in DEAL_KINDS else None
    status = args.get("status") if args.get("status") in STATUSES else None
    party = find_party(tracker(), args.get("party", ""))
    if party.typed and party.chosen is None:
        found = []
    else:
        found = tracker().list_deals(
            party=party.chosen["id"] if party.chosen else None,
            kind=kind,
            status=status,
            limit=PAGE + 1,
            after=page_after(),
        )
    more = found[PAGE - 1]["id"] if len(found) > PAGE else None
    return render_template(
        "admin/deals.html",
        found=found[:PAGE],
        more=more,
        party=party,
        kinds=DEAL_KINDS,
        statuses=STATUSES,
    )


@admin.route("/deals/new", methods=["GET", "POST"])
@requires("editor")
def new_deal() -> ResponseReturnValue:
    """Open a deal: choose its type, then its parties by search, and give it a title."""
    kind = request.values.get("kind", "")
    if kind not in DEAL_KINDS:
        return render_template("admin/deal_kind.html", kinds=DEAL_KINDS, values=request.args)
    errors = FormErrors()
    service = tracker()
    if request.method == "GET":
        parties = [_prefilled(role, label) for role, label in ROLES[kind]]
        values = MultiDict({"source_attribution": "reported", **request.args})
        return render_template(
            "admin/deal_new.html",
            kind=kind,
            parties=parties,
            values=values,
            errors=errors,
            attributions=ATTRIBUTIONS,
        )
    parties, deal_id, event = _read_deal(kind, request.form, errors)
    if not errors:
        try:
            service.append(f"deal:{deal_id}", event)
        except ValidationFailed as failed:
            errors.absorb(_members_first(failed.errors), _deal_fields(parties))
        else:
            flash(f"Opened the deal {event.data['title']}. Record what the article reports below.")
            return redirect(url_for("admin.deal", deal_id=deal_id))
    return render_template(
        "admin/deal_new.html",
        kind=kind,
        parties=parties,
        values=request.form,
        errors=errors,
        attributions=ATTRIBUTIONS,
    ), 422


def _read_deal(kind: str, form: FormData, errors: FormErrors) -> tuple[list[Party], str, NewEvent]:
    """Read the new-deal form: parties by search, title, id, when and source, all checked."""
    parties, chosen = read_parties(tracker(), kind, form, errors)
    occurred_at, precision = occurred_or_today(form, errors)
    title = form.get("title", "").strip()
    deal_id = form.get("id", "").strip() or slugify(title, prefix="deal")
    data = {"kind": kind, "title": title or None, "parties": chosen}
    event = NewEvent(
        "deal.opened", data, occurred_at, precision, read_source(form), metadata=actor()
    )
    try:
        normalize_new_event(f"deal:{deal_id}", event)
    except ValidationFailed as failed:
        # Parties still to be picked are already explained next to their inputs.
        found = {p: m for p, m in failed.errors.items() if not (errors and ".parties" in p)}
        errors.absorb(_members_first(found), _deal_fields(parties))
    if SLUG_RE.fullmatch(deal_id) and runtime().store.stream_version(f"deal:{deal_id}"):
        errors.add("id", f"{deal_id} is taken by another deal; choose another id")
    return parties, deal_id, event


def _deal_fields(parties: list[Party]) -> list[str]:
    return ["id", "title", *ENVELOPE_FIELDS, *(p.role for p in parties)]


def _prefilled(role: str, label: str) -> Party:
    """Return a party input, chosen already when the link named it (?investor=helix-cloud)."""
    typed = request.args.get(role, "")
    party = find_party(tracker(), typed) if typed else Party(role, label)
    party.role, party.label = role, label
    return party


def _members_first(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Show partnership member problems next to the first member input."""
    placed: dict[str, list[str]] = {}
    for path, messages in errors.items():
        placed.setdefault("data.parties.member_1" if ".members" in path else path, []).extend(
            messages
        )
    return placed


@admin.get("/deals/<deal_id>")
@requires("reader")
def deal(deal_id: str) -> ResponseReturnValue:
    """Show a deal's state and timeline, now or as of / as known at a date."""
    errors = FormErrors()
    at = moment(errors)
    service = tracker()

    def read(as_of: datetime | None, known_at: datetime | None) -> Any:
        state = service.deal_state(deal_id, as_of=as_of, known_at=known_at)
        return state, service.history(f"deal:{deal_id}", known_at=known_at)

    ((state, basis), history), at = read_at(read, at, errors)
    return render_template(
        "admin/deal.html",
        deal=state,
        names=_party_names(state.get("parties") or {}),
        basis=basis,
        history=list(reversed(history)),
        at=at,
        errors=errors,
        record_types=recordable_types("deal", state.get("kind")),
    )


def _party_names(parties: dict[str, Any]) -> dict[str, str]:
    """Return the name of each party of a deal, by id, for a readable heading."""
    ids = [v for value in parties.values() for v in (value if isinstance(value, list) else [value])]
    names = {}
    for org_id in ids:
        try:
            names[org_id] = tracker().organization_state(org_id)[0].get("name") or org_id
        except NotFound:
            names[org_id] = org_id
    return names
