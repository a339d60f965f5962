"""the preference centre: GPC purposes, personal links, web sessions, rate limits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite allows it with a constant default): a batch "move and copy"
    # would drop the purposes table, which the notices' foreign key forbids once there is data.
    op.add_column(
        "purposes",
        sa.Column("gpc", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "preference_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_preference_links")),
    )
    op.create_index(op.f("ix_preference_links_customer_id"), "preference_links", ["customer_id"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("staff_id", sa.String(length=40), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_customer_id"), "web_sessions", ["customer_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "rate_events",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_rate_events")),
    )
    op.create_index(op.f("ix_rate_events_key_at"), "rate_events", ["key", "at"])


def downgrade() -> None:
    op.drop_table("rate_events")
    op.drop_table("web_sessions")
    op.drop_table("preference_links")
    with op.batch_alter_table("purposes") as batch_op:
        batch_op.drop_column("gpc")
