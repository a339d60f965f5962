"""real-time triggers: their definitions, firings and the notifications they record

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triggers")),
    )
    op.create_table(
        "trigger_firings",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("trigger_id", sa.String(length=64), nullable=False),
        sa.Column("fired_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "trigger_id", name=op.f("pk_trigger_firings")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("trigger_id", sa.String(length=64), nullable=False),
        sa.Column("notify", sa.String(length=8), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=True),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        op.f("ix_notifications_notify_status_due_at"),
        "notifications",
        ["notify", "status", "due_at"],
    )
    op.create_index(op.f("ix_notifications_customer_id"), "notifications", ["customer_id"])


def downgrade() -> None:
    for table in ("notifications", "trigger_firings", "triggers"):
        op.drop_table(table)
