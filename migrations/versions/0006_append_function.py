"""append_events(): an append in one statement, so an autocommit call is one round trip.

The function does what EventStore.append does in a transaction of its own: take the append
lock (waiting at most lock_timeout_ms), read the log's head and each stream's version,
check expected versions, the creation rule and recorded_at, and insert the events with
positions head + 1, 2, ... and versions that continue each stream. Each statement in a
VOLATILE function takes a fresh snapshot, so what it reads after the lock includes every
append committed before it. When a check fails it inserts nothing and answers ok = false
with what it found, from which the caller raises the same error its own checks would.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION append_events(
            lock_key          bigint,
            lock_timeout_ms   integer,
            supplied_at       timestamptz,
            streams           jsonb,  -- [{"id", "expected" (null: any), "creates"}], in order
            new_events        jsonb   -- [{"stream", "id", "type", "schema", "data", "source",
                                      --   "metadata", "occurred" (null: recorded_at), "precision"}]
        ) RETURNS TABLE (
            ok                boolean,
            head_position     bigint,
            head_recorded_at  timestamptz,
            recorded_at       timestamptz,
            versions          integer[]
        )
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            head_pos   bigint;
            head_at    timestamptz;
            now_at     timestamptz;
            stream_ids text[];
            current    integer[];
            next       integer[];
            at         integer;
            s          record;
            e          record;
        BEGIN
            PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
            PERFORM pg_advisory_xact_lock(lock_key);
            SELECT ev.position, ev.recorded_at INTO head_pos, head_at
              FROM events ev ORDER BY ev.position DESC LIMIT 1;
            head_pos := coalesce(head_pos, 0);
            stream_ids := ARRAY[]::text[];
            current := ARRAY[]::integer[];
            FOR s IN SELECT j.value AS v FROM jsonb_array_elements(streams) WITH ORDINALITY AS j
                      ORDER BY j.ordinality LOOP
                stream_ids := stream_ids || (s.v->>'id');
                current := current || coalesce((SELECT ev.version FROM events ev
                                                 WHERE ev.stream_id = s.v->>'id'
                                                 ORDER BY ev.version DESC LIMIT 1), 0);
                IF ((s.v->>'expected')::integer <> current[cardinality(current)])
                   OR (current[cardinality(current)] = 0) <> (s.v->>'creates')::boolean THEN
                    RETURN QUERY SELECT false, head_pos, head_at, clock_timestamp(), current;
                    RETURN;
                END IF;
            END LOOP;
            -- The server clock can step back (NTP); the log's order must not.
            now_at := coalesce(supplied_at, greatest(clock_timestamp(), head_at));
            IF supplied_at < head_at THEN
                RETURN QUERY SELECT false, head_pos, head_at, now_at, current;
                RETURN;
            END IF;
            next := current;
            FOR e IN SELECT j.value AS v, j.ordinality AS n
                       FROM jsonb_array_elements(new_events) WITH ORDINALITY AS j
                      ORDER BY j.ordinality LOOP
                at := array_position(stream_ids, e.v->>'stream');
                next[at] := next[at] + 1;
                INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
                                    data, source, metadata, occurred_at, occurred_precision,
                                    recorded_at)
                VALUES (head_pos + e.n, (e.v->>'id')::uuid, e.v->>'stream', next[at],
                        e.v->>'type', (e.v->>'schema')::integer, e.v->'data',
                        nullif(e.v->'source', 'null'::jsonb), e.v->'metadata',
                        coalesce((e.v->>'occurred')::timestamptz, now_at), e.v->>'precision',
                        now_at);
            END LOOP;
            RETURN QUERY SELECT true, head_pos, head_at, now_at, current;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION append_events(bigint, integer, timestamptz, jsonb, jsonb)")
