"""insights: daily counts of distinct customers per consent cell, who is counted in each, and
daily snapshots of how many customers have each purpose granted

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY = ["period", "day", "purpose", "channel", "source", "action"]


def _cell() -> list[sa.Column[object]]:
    return [
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "insight_consent_flows",
        *_cell(),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_insight_consent_flows")),
    )
    op.create_table(
        "insight_flow_members",
        *_cell(),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "member", name=op.f("pk_insight_flow_members")),
    )
    op.create_index(op.f("ix_insight_flow_members_member"), "insight_flow_members", ["member"])
    op.create_table(
        "insight_consent_levels",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "purpose", "channel", name=op.f("pk_insight_consent_levels")
        ),
    )


def downgrade() -> None:
    op.drop_table("insight_consent_levels")
    op.drop_index(op.f("ix_insight_flow_members_member"), table_name="insight_flow_members")
    op.drop_table("insight_flow_members")
    op.drop_table("insight_consent_flows")
