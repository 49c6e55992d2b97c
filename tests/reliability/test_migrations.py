"""Migrations: empty database to head, and the latest migration down and up again without losing data."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.config import Settings
from app.demo import load_demo
from app.store import migrate
from app.store.database import make_engine


def test_empty_database_to_head(databases: Any) -> None:
    engine = make_engine(databases.create(), Settings())
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    engine.dispose()


def test_latest_migration_down_and_up_keeps_the_log_and_state(databases: Any) -> None:
    engine = make_engine(databases.migrated(), Settings())
    load_demo(engine)
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text("SELECT * FROM events ORDER BY position"))]
        deals = [
            tuple(r)
            for r in conn.execute(text("SELECT deal_id, state FROM deal_view ORDER BY deal_id"))
        ]
    head = migrate.head_revision()
    previous = (
        ScriptDirectory.from_config(migrate.alembic_config()).get_revision(head).down_revision
    )
    migrate.downgrade(engine, str(previous))
    assert migrate.current_revision(engine) == previous
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    with engine.connect() as conn:
        assert [
            tuple(r) for r in conn.execute(text("SELECT * FROM events ORDER BY position"))
        ] == before
        assert [
            tuple(r)
            for r in conn.execute(text("SELECT deal_id, state FROM deal_view ORDER BY deal_id"))
        ] == deals
    engine.dispose()
