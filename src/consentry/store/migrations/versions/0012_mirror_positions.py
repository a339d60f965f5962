"""mirrors of the outbox (NATS JetStream): how far each has published

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mirror_positions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mirror_positions")),
    )


def downgrade() -> None:
    op.drop_table("mirror_positions")
