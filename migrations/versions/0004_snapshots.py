"""Snapshots of the global state, and the procrastinate job queue the worker runs on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The procrastinate schema is the SQL procrastinate ships (`procrastinate schema --read`),
applied here so that Alembic stays the one way the schema changes. A later procrastinate
release that changes its schema gets its own revision running the migration scripts it
ships (`procrastinate schema --migrations-path`).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE snapshots (
            id                   bigserial   PRIMARY KEY,
            schedule             text,
            slot                 timestamptz,
            taken_at             timestamptz NOT NULL,
            position             bigint      NOT NULL,
            known_at             timestamptz NOT NULL,
            fold_schema_version  integer     NOT NULL,
            late                 boolean     NOT NULL DEFAULT false,
            state                bytea       NOT NULL,
            size                 bigint      NOT NULL,
            CONSTRAINT snapshots_one_per_slot UNIQUE (schedule, slot),
            CONSTRAINT snapshots_slot_has_schedule CHECK ((schedule IS NULL) = (slot IS NULL))
        )
        """
    )
    op.execute("COMMENT ON COLUMN snapshots.state IS 'zlib-compressed JSON of the global state'")
    op.execute("COMMENT ON COLUMN snapshots.size IS 'bytes of the uncompressed JSON'")
    # A read starts from the newest snapshot at or before its position.
    op.execute(
        "CREATE INDEX snapshots_base_idx ON snapshots (fold_schema_version, position DESC, id DESC)"
    )

    from procrastinate.schema import SchemaManager

    # The driver connection, so the script's own % and multiple statements pass untouched.
    driver = op.get_bind().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute("DROP TABLE snapshots")
    op.execute(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE format('DROP TABLE %I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                          AND t.typtype IN ('e', 'c')
            LOOP
                EXECUTE format('DROP TYPE %I CASCADE', item.typname);
            END LOOP;
        END;
        $$
        """
    )
