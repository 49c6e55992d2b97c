"""Idempotency keys: the first response to a write, replayed for 24 hours to a retry with the same key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A row is inserted (status NULL: in flight) before the write runs, in its own
    # transaction, so a concurrent duplicate finds it; the response is stored after.
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            token_id         integer     NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
            key              text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            request_hash     text        NOT NULL,
            status           integer,
            response_body    text,
            response_headers jsonb       NOT NULL DEFAULT '{}'::jsonb,
            created_at       timestamptz NOT NULL DEFAULT now(),
            completed_at     timestamptz,
            PRIMARY KEY (token_id, key)
        )
        """
    )
    # Purging keys older than 24 hours scans by age.
    op.execute("CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
