"""The immutable event log and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            position           bigint      PRIMARY KEY CHECK (position > 0),
            event_id           uuid        NOT NULL UNIQUE,
            stream_id          text        NOT NULL CHECK (stream_id ~ '^(org|deal):[a-z0-9][a-z0-9-]{0,79}$'),
            version            integer     NOT NULL CHECK (version > 0),
            type               text        NOT NULL,
            schema_version     integer     NOT NULL DEFAULT 1 CHECK (schema_version > 0),
            data               jsonb       NOT NULL,
            source             jsonb,
            metadata           jsonb       NOT NULL DEFAULT '{}'::jsonb,
            occurred_at        timestamptz NOT NULL,
            occurred_precision text        NOT NULL
                CHECK (occurred_precision IN ('instant', 'day', 'month', 'year')),
            recorded_at        timestamptz NOT NULL,
            CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
        )
        """
    )
    # Global reads use the primary key; stream reads use (stream_id, version);
    # type filters on the global log use (type, position).
    op.execute("CREATE INDEX events_type_position_idx ON events (type, position)")
    op.execute("CREATE INDEX events_recorded_at_idx ON events (recorded_at)")
    # Immutability is the database's job: no role, however privileged its
    # client code, can change or remove an event with plain SQL. Statement-level,
    # so the refusal does not depend on whether any row matched.
    op.execute(
        """
        CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are immutable: % is not allowed on the event log', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'append an event.corrected or event.retracted event instead';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable()
        """
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC")
    op.execute(
        """
        CREATE TABLE api_tokens (
            id          serial      PRIMARY KEY,
            name        text        NOT NULL,
            role        text        NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
            token_hash  text        NOT NULL UNIQUE,
            created_at  timestamptz NOT NULL DEFAULT now(),
            revoked_at  timestamptz
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE api_tokens")
    op.execute("DROP TRIGGER events_are_append_only ON events")
    op.execute("DROP TABLE events")
    op.execute("DROP FUNCTION events_are_immutable()")
