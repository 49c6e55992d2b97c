"""Admin page users: a username, a slow password hash, a role, and when they were disabled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id             bigserial   PRIMARY KEY,
            username       text        NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
            password_hash  text        NOT NULL,
            role           text        NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
            created_at     timestamptz NOT NULL DEFAULT now(),
            disabled_at    timestamptz
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE users")
