"""Current organization and deal state as tables, derived by folding each touched stream."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.domain.envelope import RecordedEvent, stream_key, stream_kind
from app.domain.fold import fold_deal, fold_organization

CHECKPOINT = "read_models"


@dataclass(frozen=True)
class Tables:
    """The names of one set of read-model tables (live or a rebuild's shadow)."""

    organizations: str = "organization_view"
    deals: str = "deal_view"
    parties: str = "deal_party_view"

    def names(self) -> tuple[str, str, str]:
        """Return the three table names."""
        return (self.organizations, self.deals, self.parties)


LIVE = Tables()


def search_key(value: str) -> str:
    """Normalise text for search: Unicode NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def organization_row(org_id: str, events: Sequence[RecordedEvent]) -> dict[str, Any]:
    """Fold an organization stream into its read-model row."""
    state = fold_organization(events, with_history=False)
    names = [org_id, state.get("name") or ""]
    names += [a["alias"] for a in state.get("aliases") or []]
    names += [f["name"] for f in state.get("former_names") or []]
    return {
        "org_id": org_id,
        "name": state.get("name") or org_id,
        "kind": state.get("kind"),
        "search_text": "\n".join(search_key(n) for n in names if n),
        "version": events[-1].version,
        "position": max(e.position for e in events),
        "state": state,
    }


def deal_row(deal_id: str, events: Sequence[RecordedEvent]) -> dict[str, Any]:
    """Fold a deal stream into its read-model row."""
    state = fold_deal(events, with_history=False)
    return {
        "deal_id": deal_id,
        "kind": state.get("kind") or "",
        "status": state.get("status"),
        "title": state.get("title"),
        "version": events[-1].version,
        "position": max(e.position for e in events),
        "state": state,
    }


def party_rows(deal_id: str, state: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return (deal, org, role) rows for every party of a deal."""
    parties = state.get("parties") or {}
    rows = []
    for role, value in sorted(parties.items()):
        members = value if isinstance(value, list) else [value]
        for org_id in members:
            if isinstance(org_id, str):
                rows.append({"deal_id": deal_id, "org_id": org_id, "role": role.rstrip("s")})
    return rows


def write_stream(
    conn: Connection,
    stream_id: str,
    events: Sequence[RecordedEvent],
    tables: Tables = LIVE,
    *,
    parties: bool = True,
) -> None:
    """Store the folded state of one stream in the read models.

    `parties=False` leaves a deal's party rows as they are (they change only when the
    deal is opened).
    """
    if not events:
        return
    organizations, deals, deal_ids, party_rows = rows_for_stream(stream_id, events)
    if not parties:
        deal_ids, party_rows = [], []
    write_rows(conn, organizations, deals, deal_ids, party_rows, tables=tables)


def rows_for_stream(
    stream_id: str, events: Sequence[RecordedEvent]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], list[dict[str, str]]]:
    """Return (organization rows, deal rows, deal ids whose parties change, party rows) for a stream."""
    key = stream_key(stream_id)
    if stream_kind(stream_id) == "org":
        return [organization_row(key, events)], [], [], []
    row = deal_row(key, events)
    return [], [row], [key], party_rows(key, row["state"])


def write_rows(
    conn: Connection,
    organizations: list[dict[str, Any]],
    deals: list[dict[str, Any]],
    deal_ids: list[str],
    parties: list[dict[str, str]],
    *,
    tables: Tables = LIVE,
) -> None:
    """Upsert folded rows into a set of read-model tables."""
    for sql, rows in upsert_statements(organizations, deals, deal_ids, parties, tables=tables):
        conn.exec_driver_sql(sql, rows[0])


def upsert_statements(
    organizations: list[dict[str, Any]],
    deals: list[dict[str, Any]],
    deal_ids: list[str],
    parties: list[dict[str, str]],
    *,
    tables: Tables = LIVE,
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Return the SQL (psycopg placeholders) and parameters that upsert folded rows.

    Each table's rows go as one JSON document in one statement: a statement a row, with the
    state encoded separately for each, cost more than the upserts themselves.
    """
    statements: list[tuple[str, list[tuple[Any, ...]]]] = []
    if organizations:
        statements.append(
            (
                f"INSERT INTO {tables.organizations} (org_id, name, kind, search_text, version, position, state)"
                " SELECT org_id, name, kind, search_text, version, position, state"
                " FROM jsonb_to_recordset(%s::jsonb) AS x(org_id text, name text, kind text,"
                " search_text text, version integer, position bigint, state jsonb)"
                " ON CONFLICT (org_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,"
                " search_text = EXCLUDED.search_text, version = EXCLUDED.version,"
                " position = EXCLUDED.position, state = EXCLUDED.state",
                [(_document(organizations),)],
            )
        )
    if deals:
        statements.append(
            (
                f"INSERT INTO {tables.deals} (deal_id, kind, status, title, version, position, state)"
                " SELECT deal_id, kind, status, title, version, position, state"
                " FROM jsonb_to_recordset(%s::jsonb) AS x(deal_id text, kind text, status text,"
                " title text, version integer, position bigint, state jsonb)"
                " ON CONFLICT (deal_id) DO UPDATE SET kind = EXCLUDED.kind, status = EXCLUDED.status,"
                " title = EXCLUDED.title, version = EXCLUDED.version, position = EXCLUDED.position,"
                " state = EXCLUDED.state",
                [(_document(deals),)],
            )
        )
    if deal_ids:
        statements.append(
            (f"DELETE FROM {tables.parties} WHERE deal_id = ANY(%s)", [(list(deal_ids),)])
        )
    if parties:
        statements.append(
            (
                f"INSERT INTO {tables.parties} (deal_id, org_id, role)"
                " SELECT deal_id, org_id, role"
                " FROM jsonb_to_recordset(%s::jsonb) AS x(deal_id text, org_id text, role text)"
                " ON CONFLICT DO NOTHING",
                [(_document(parties),)],
            )
        )
    return statements


def _document(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"))


CHECKPOINT_SQL = (
    "UPDATE projection_checkpoints SET position = GREATEST(position, %(p)s), updated_at = now()"
    " WHERE name = %(n)s"
)


def checkpoint_statement(position: int) -> tuple[str, list[dict[str, Any]]]:
    """Return the SQL and row that record the last log position the read models reflect."""
    return CHECKPOINT_SQL, [{"p": position, "n": CHECKPOINT}]


def set_checkpoint(conn: Connection, position: int) -> None:
    """Record the last log position the read models reflect."""
    sql, rows = checkpoint_statement(position)
    conn.exec_driver_sql(sql, rows[0])


def checkpoint(conn: Connection) -> int:
    """Return the last log position the read models reflect."""
    value = conn.execute(
        text("SELECT position FROM projection_checkpoints WHERE name = :n"), {"n": CHECKPOINT}
    ).scalar()
    return int(value or 0)
