"""Read models: current organization and deal state, deal parties, and the projection checkpoint.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

READ_MODEL_DDL = """
CREATE TABLE {organizations} (
    org_id       text    PRIMARY KEY,
    name         text    NOT NULL,
    kind         text,
    search_text  text    NOT NULL,
    version      integer NOT NULL,
    position     bigint  NOT NULL,
    state        jsonb   NOT NULL
);
CREATE TABLE {deals} (
    deal_id   text    PRIMARY KEY,
    kind      text    NOT NULL,
    status    text,
    title     text,
    version   integer NOT NULL,
    position  bigint  NOT NULL,
    state     jsonb   NOT NULL
);
CREATE INDEX {deals}_kind_status_idx ON {deals} (kind, status, deal_id);
CREATE TABLE {parties} (
    deal_id  text NOT NULL,
    org_id   text NOT NULL,
    role     text NOT NULL,
    PRIMARY KEY (deal_id, org_id, role)
);
CREATE INDEX {parties}_org_idx ON {parties} (org_id, deal_id);
"""


def upgrade() -> None:
    op.execute(
        READ_MODEL_DDL.format(
            organizations="organization_view", deals="deal_view", parties="deal_party_view"
        )
    )
    op.execute(
        """
        CREATE TABLE projection_checkpoints (
            name        text        PRIMARY KEY,
            position    bigint      NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("INSERT INTO projection_checkpoints (name, position) VALUES ('read_models', 0)")
    # Existing events (a database migrated with data) are projected by
    # `dealtracker projections rebuild`; a fresh database has none.


def downgrade() -> None:
    op.execute("DROP TABLE projection_checkpoints")
    op.execute("DROP TABLE deal_party_view")
    op.execute("DROP TABLE deal_view")
    op.execute("DROP TABLE organization_view")
