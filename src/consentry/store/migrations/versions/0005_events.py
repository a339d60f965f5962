"""events: purchases, returns, visits, views and app opens, sealed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("excluded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("source_key", name=op.f("uq_events_source_key")),
    )
    op.create_index(
        op.f("ix_events_customer_id_occurred_at"), "events", ["customer_id", "occurred_at"]
    )
    op.create_index(op.f("ix_events_type_occurred_at"), "events", ["type", "occurred_at"])


def downgrade() -> None:
    op.drop_table("events")
