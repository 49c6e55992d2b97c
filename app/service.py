"""The application service: the one place writes are validated, appended and projected, and state is read.

A write runs in one transaction holding the append lock: it checks the events
against the stream and the registered organizations, appends them, and updates
the read models, so a reader never sees a read model ahead of or behind the log.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, text

from app.domain.envelope import NewEvent, RecordedEvent, iso, stream_key, stream_kind, utc
from app.domain.events import (
    CORRECTED,
    CREATION_TYPES,
    RETRACTED,
    ValidationFailed,
    check_against_stream,
    normalize_new_event,
    referenced_orgs,
)
from app.domain.fold import (
    effective_events,
    fold_deal,
    fold_organization,
    relate_deals,
    stale_warnings,
)
from app.projections import readmodels
from app.state_cache import DEAL_STATES, EncodedState
from app.store.database import reading
from app.store.errors import WrongExpectedVersion
from app.store.eventstore import AppendResult, EventStore, _recorded, event_ids, originals_of
from app.store.pipelined import Seen, Statement, insert_events, locked_write

Write = tuple[str, NewEvent, int | None]
EDITORIAL_SOURCE = {"publisher": "editorial", "attribution": "official"}


class NotFound(LookupError):
    """The organization, deal or event does not exist (at the time asked about)."""


@dataclass(frozen=True, slots=True)
class Basis:
    """What an answer was computed from, so it can be reproduced."""

    position: int
    as_of: datetime | None
    known_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {"position": self.position, "as_of": iso(self.as_of), "known_at": iso(self.known_at)}


class DealTracker:
    """Record what the press reports and answer what is known."""

    def __init__(self, store: EventStore, clock: Any = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    # --- writes ---------------------------------------------------------------

    def append(
        self, stream_id: str, event: NewEvent, expected_version: int | None = None
    ) -> AppendResult:
        """Validate and append one event to a stream."""
        return self.append_batch([(stream_id, event, expected_version)])

    def append_batch(self, writes: Sequence[Write]) -> AppendResult:
        """Validate and append events to any streams: all of them or none.

        One transaction holding the append lock, in two round trips (app/store/pipelined.py):
        the first reads each stream after the prefix this process has cached, the log's
        head and the organizations the events name; the events are checked against that,
        given positions, and folded into read-model rows; the second writes events and
        rows and commits.
        """
        normalized = self._normalize(writes)
        flat = [(stream_id, event) for stream_id, event, _ in normalized]
        # Ids this service just made up cannot be in the log yet: only a write whose
        # events came with ids (a retry) needs looking for.
        ids = event_ids(flat) if any(e.event_id is not None for _, e, _ in writes) else []
        stream_ids = list(dict.fromkeys(stream_id for stream_id, _ in flat))
        cache = self.store.stream_cache
        prefixes = {stream_id: cache.prefix(stream_id) for stream_id in stream_ids}
        orgs = set().union(*(referenced_orgs(event) for _, event in flat))
        streams: dict[str, list[RecordedEvent]] = {}

        def plan(seen: Seen) -> tuple[list[Statement], AppendResult]:
            existing = originals_of(flat, seen.found) if ids else None
            if existing is not None:
                return [], AppendResult(existing, created=False)
            for stream_id in stream_ids:
                streams[stream_id] = prefixes[stream_id] + seen.tails.get(stream_id, [])
                cache.keep(stream_id, streams[stream_id])  # read back, so committed
            registered = {stream_key(s) for s in seen.existing_streams}
            self._check(normalized, {s: list(e) for s, e in streams.items()}, registered)
            now = self.store._recorded_at(seen.head_recorded_at, None, seen.clock)
            rows = self.store.plan_rows(
                [(stream_id, [event], expected) for stream_id, event, expected in normalized],
                seen.versions,
                seen.head_position,
                now,
            )
            appended = [_recorded(row) for row in rows]
            for event in appended:
                streams[event.stream_id].append(event)
            return _writes(rows, appended, streams), AppendResult(appended, created=True)

        result = locked_write(
            self.store,
            plan,
            stream_ids=stream_ids,
            ids=ids,
            tails_since={s: events[-1].version if events else 0 for s, events in prefixes.items()},
            existence_of=[f"org:{org_id}" for org_id in orgs],
        )
        if result.created:
            for stream_id, events in streams.items():
                cache.keep(stream_id, events)  # committed now
        return result

    def correct(
        self,
        target_event_id: UUID,
        changes: Mapping[str, Any],
        reason: str,
        *,
        source: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        event_id: UUID | None = None,
    ) -> AppendResult:
        """Append an event.corrected to the target's stream."""
        data = {"target_event_id": str(target_event_id), "changes": dict(changes), "reason": reason}
        return self._amend(CORRECTED, target_event_id, data, source, metadata, event_id)

    def retract(
        self,
        target_event_id: UUID,
        reason: str,
        *,
        source: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        event_id: UUID | None = None,
    ) -> AppendResult:
        """Append an event.retracted to the target's stream."""
        data = {"target_event_id": str(target_event_id), "reason": reason}
        return self._amend(RETRACTED, target_event_id, data, source, metadata, event_id)

    def _amend(
        self,
        type_: str,
        target_event_id: UUID,
        data: dict[str, Any],
        source: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        event_id: UUID | None,
    ) -> AppendResult:
        target = self.store.get(target_event_id)
        if target is None:
            raise NotFound(f"there is no event {target_event_id}")
        if source is None and stream_kind(target.stream_id) == "deal":
            # An editor fixing an entry speaks for the newsroom itself.
            source = EDITORIAL_SOURCE
        event = NewEvent(
            type=type_, data=data, source=source, metadata=dict(metadata or {}), event_id=event_id
        )
        return self.append(target.stream_id, event)

    def _normalize(self, writes: Sequence[Write]) -> list[Write]:
        """Check every event's own fields, naming each problem with its place in a batch."""
        normalized: list[Write] = []
        errors: dict[str, list[str]] = {}
        for index, (stream_id, event, expected) in enumerate(writes):
            if event.occurred_at is None and event.type in CREATION_TYPES.values():
                # Registering or opening happens when it is recorded unless told otherwise.
                event = replace(event, occurred_at=self.clock())
            try:
                event = normalize_new_event(stream_id, event)
                # Ids are fixed now so later events of the batch can refer to earlier ones.
                event = replace(event, event_id=event.event_id or uuid.uuid4())
                normalized.append((stream_id, event, expected))
            except ValidationFailed as failed:
                prefix = f"events.{index}." if len(writes) > 1 else ""
                for path, messages in failed.errors.items():
                    errors.setdefault(prefix + path, []).extend(messages)
        if errors:
            raise ValidationFailed(errors)
        return normalized

    def _check(
        self,
        writes: Sequence[Write],
        streams: dict[str, list[RecordedEvent]],
        registered: set[str],
    ) -> None:
        """Check each event against its stream so far and the registered organizations."""
        errors: dict[str, list[str]] = {}
        for index, (stream_id, event, expected) in enumerate(writes):
            history = streams[stream_id]
            if expected is not None and expected != len(history):
                # A stale writer hears about the conflict, not about rules its stale view broke.
                raise WrongExpectedVersion(stream_id, expected, len(history))
            try:
                check_against_stream(stream_id, event, history, registered)
            except ValidationFailed as failed:
                prefix = f"events.{index}." if len(writes) > 1 else ""
                for path, messages in failed.errors.items():
                    errors.setdefault(prefix + path, []).extend(messages)
            # Later events of the same batch see this one (a registration, a report to correct).
            history.append(_provisional(stream_id, event, len(history) + 1))
            if event.type == "organization.registered":
                registered.add(stream_key(stream_id))
        if errors:
            raise ValidationFailed(errors)

    # --- reads ----------------------------------------------------------------

    def deal_state(
        self, deal_id: str, *, as_of: datetime | None = None, known_at: datetime | None = None
    ) -> tuple[dict[str, Any], Basis]:
        """Return a deal's state, now or as of / as known at a time."""
        with reading(self.store.engine) as conn:
            if as_of is None and known_at is None:
                row = conn.execute(
                    text("SELECT state FROM deal_view WHERE deal_id = :id"), {"id": deal_id}
                ).first()
                if row is None:
                    raise NotFound(f"there is no deal {deal_id}")
                state = dict(row[0])
                basis = Basis(readmodels.checkpoint(conn), None, None)
            else:
                events = self.store.read_stream(f"deal:{deal_id}", known_at=known_at, conn=conn)
                if not events:
                    raise NotFound(
                        f"there is no deal {deal_id}" + (" known then" if known_at else "")
                    )
                state = fold_deal(events, as_of=as_of, known_at=known_at, with_history=False)
                basis = Basis(self._position_at(conn, known_at), as_of, known_at)
        state["warnings"] = list(state.get("warnings") or []) + stale_warnings(
            state, as_of or self.clock()
        )
        return state, basis

    def deal_state_json(
        self, deal_id: str, *, as_of: datetime | None = None, known_at: datetime | None = None
    ) -> tuple[EncodedState, Basis]:
        """Return deal_state's answer as UTF-8 JSON, from the cache when the question was answered.

        A key names what the answer was computed from: the read model's version for the
        current state; the stream's version with as_of (and a known_at not yet in the past);
        the question alone for a known_at before the newest committed recorded_at, since
        recorded_at never goes backwards and nothing recorded later can change that answer.
        """
        stream_id = f"deal:{deal_id}"
        with reading(self.store.engine) as conn:
            row = conn.execute(
                text(
                    "SELECT (SELECT version FROM deal_view WHERE deal_id = :id),"
                    " (SELECT max(version) FROM events WHERE stream_id = :s),"
                    " (SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1)"
                ),
                {"id": deal_id, "s": stream_id},
            ).one()
            view_version, stream_version, newest = row
            if as_of is None and known_at is None:
                question: tuple[Any, ...] = ("current", view_version)
            elif known_at is not None and newest is not None and utc(known_at) < newest:
                question = ("known", iso(as_of), iso(known_at))
            else:
                question = ("as_of", stream_version, iso(as_of), iso(known_at))
            if (as_of is None and known_at is None and view_version is None) or not stream_version:
                raise NotFound(f"there is no deal {deal_id}")
            key = (str(self.store.engine.url), deal_id, question)
            found = DEAL_STATES.get(key)
            at = as_of or self.clock()
            # The stale-status warning depends on the clock: an answer that went stale is redone.
            if found is not None and bool(stale_warnings(_stale_fields(found), at)) == found.stale:
                if found.position is not None:
                    return found, Basis(found.position, as_of, known_at)
                return found, self._basis(conn, as_of, known_at)
            if as_of is None and known_at is None:
                state, _ = self.deal_state(deal_id)
            else:
                events = self.store.read_stream(
                    stream_id, up_to_version=stream_version, known_at=known_at, conn=conn
                )
                if not events:
                    raise NotFound(f"there is no deal {deal_id} known then")
                state = fold_deal(events, as_of=as_of, known_at=known_at, with_history=False)
                state["warnings"] = list(state.get("warnings") or []) + stale_warnings(state, at)
            basis = self._basis(conn, as_of, known_at)
            encoded = replace(
                _encode(state),
                stale=any(w.get("code") == "stale_status" for w in state["warnings"]),
                # A past known_at's basis position is as fixed as its state.
                position=basis.position if question[0] == "known" else None,
            )
            DEAL_STATES.put(key, encoded)
            return encoded, basis

    def _basis(self, conn: Connection, as_of: datetime | None, known_at: datetime | None) -> Basis:
        if as_of is None and known_at is None:
            return Basis(readmodels.checkpoint(conn), None, None)
        return Basis(self._position_at(conn, known_at), as_of, known_at)

    def organization_state(
        self, org_id: str, *, as_of: datetime | None = None, known_at: datetime | None = None
    ) -> tuple[dict[str, Any], Basis]:
        """Return an organization's state with the deals it is party to."""
        with reading(self.store.engine) as conn:
            if as_of is None and known_at is None:
                row = conn.execute(
                    text("SELECT state FROM organization_view WHERE org_id = :id"), {"id": org_id}
                ).first()
                if row is None:
                    raise NotFound(f"there is no organization {org_id}")
                state = dict(row[0])
                deals = [
                    r.state
                    for r in conn.execute(
                        text(
                            "SELECT d.deal_id, d.state FROM deal_view d WHERE d.deal_id IN"
                            " (SELECT deal_id FROM deal_party_view WHERE org_id = :id) ORDER BY d.deal_id"
                        ),
                        {"id": org_id},
                    )
                ]
                basis = Basis(readmodels.checkpoint(conn), None, None)
            else:
                events = self.store.read_stream(f"org:{org_id}", known_at=known_at, conn=conn)
                if not events:
                    raise NotFound(
                        f"there is no organization {org_id}" + (" known then" if known_at else "")
                    )
                state = fold_organization(
                    events, as_of=as_of, known_at=known_at, with_history=False
                )
                deals = []
                for deal_id in self._deal_ids_of(conn, org_id):
                    deal_events = self.store.read_stream(
                        f"deal:{deal_id}", known_at=known_at, conn=conn
                    )
                    if deal_events:
                        deals.append(
                            fold_deal(
                                deal_events, as_of=as_of, known_at=known_at, with_history=False
                            )
                        )
                basis = Basis(self._position_at(conn, known_at), as_of, known_at)
        state.update(relate_deals(org_id, deals))
        return state, basis

    def history(self, stream_id: str, *, known_at: datetime | None = None) -> list[dict[str, Any]]:
        """Return every event of a stream with its provenance and effect."""
        events = self.store.read_stream(stream_id, known_at=known_at)
        if not events:
            raise NotFound(f"there is no {stream_kind(stream_id)} {stream_key(stream_id)}")
        _, history = effective_events(events, known_at=known_at)
        by_id = {e.event_id: e for e in events}
        entries = []
        for entry in history:
            item = entry.to_json()
            item["stream_id"] = stream_id
            item["metadata"] = dict(by_id[entry.event.event_id].metadata)
            entries.append(item)
        return entries

    def search_organizations(
        self, query: str | None, *, limit: int = 50, after: str | None = None
    ) -> list[dict[str, Any]]:
        """Find organizations by name or alias (NFKC, case-insensitive), ordered by id."""
        clauses: list[str] = ["TRUE"]
        params: dict[str, Any] = {"limit": limit}
        if query and query.strip():
            clauses.append("search_text LIKE :pattern ESCAPE '\\'")
            params["pattern"] = "%" + _like_escape(readmodels.search_key(query)) + "%"
        if after:
            clauses.append("org_id > :after")
            params["after"] = after
        sql = f"SELECT state FROM organization_view WHERE {' AND '.join(clauses)} ORDER BY org_id LIMIT :limit"
        with reading(self.store.engine) as conn:
            return [dict(row[0]) for row in conn.execute(text(sql), params)]

    def list_deals(
        self,
        *,
        party: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """List deals filtered by party, kind and status, ordered by id."""
        clauses: list[str] = ["TRUE"]
        params: dict[str, Any] = {"limit": limit}
        if party:
            clauses.append("deal_id IN (SELECT deal_id FROM deal_party_view WHERE org_id = :party)")
            params["party"] = party
        if kind:
            clauses.append("kind = :kind")
            params["kind"] = kind
        if status:
            clauses.append("status = :status")
            params["status"] = status
        if after:
            clauses.append("deal_id > :after")
            params["after"] = after
        sql = f"SELECT state FROM deal_view WHERE {' AND '.join(clauses)} ORDER BY deal_id LIMIT :limit"
        with reading(self.store.engine) as conn:
            return [dict(row[0]) for row in conn.execute(text(sql), params)]

    def _deal_ids_of(self, conn: Connection, org_id: str) -> list[str]:
        rows = conn.execute(
            text(
                "SELECT DISTINCT deal_id FROM deal_party_view WHERE org_id = :id ORDER BY deal_id"
            ),
            {"id": org_id},
        )
        return [row[0] for row in rows]

    def _position_at(self, conn: Connection, known_at: datetime | None) -> int:
        if known_at is None:
            return self.store.head_position(conn=conn)
        # Positions follow recorded_at, so the last event known then is among those recorded
        # at the latest moment up to known_at: two index probes, however long the log.
        value = conn.execute(
            text(
                "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at ="
                " (SELECT max(recorded_at) FROM events WHERE recorded_at <= :t)"
            ),
            {"t": known_at},
        ).scalar_one()
        return int(value)


def _writes(
    rows: list[dict[str, Any]],
    appended: list[RecordedEvent],
    streams: dict[str, list[RecordedEvent]],
) -> list[Statement]:
    """Return the statements that insert the events and store every touched stream's new state."""
    created = {e.stream_id for e in appended if e.type in CREATION_TYPES.values()}
    organizations: list[dict[str, Any]] = []
    deals: list[dict[str, Any]] = []
    deal_ids: list[str] = []
    parties: list[dict[str, str]] = []
    for stream_id in dict.fromkeys(e.stream_id for e in appended):
        found = readmodels.rows_for_stream(stream_id, streams[stream_id])
        organizations += found[0]
        deals += found[1]
        # A deal's parties are fixed by deal.opened: nothing later can change them.
        if stream_id in created:
            deal_ids += found[2]
            parties += found[3]
    return [
        insert_events(rows),
        *readmodels.upsert_statements(organizations, deals, deal_ids, parties),
        readmodels.checkpoint_statement(max(e.position for e in appended)),
    ]


def _provisional(stream_id: str, event: NewEvent, version: int) -> RecordedEvent:
    """Stand in for an event of this batch that is not appended yet (position 0 marks it)."""
    return event.recorded_as(stream_id, position=0, version=version, recorded_at=datetime.now(UTC))


def _encode(state: Mapping[str, Any]) -> EncodedState:
    """Encode a state once, with the digest its ETag is made from."""
    body = json.dumps(
        state, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()
    return EncodedState(
        json=body,
        digest=hashlib.sha256(body).hexdigest(),
        version=int(state.get("version") or 0),
        status=state.get("status"),
        last_reported_at=state.get("last_reported_at"),
    )


def _stale_fields(encoded: EncodedState) -> dict[str, Any]:
    return {"status": encoded.status, "last_reported_at": encoded.last_reported_at}


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
