"""insights of progressive profiling and offers: daily counts of distinct customers per metric
(asked, answered, declined, points; decisions, chosen, dismissed, suppressed, empty) with their
members; the current distribution of answers to choice questions and its daily snapshots;
daily counts of customers per relationship stage

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch_op:
        batch_op.add_column(
            sa.Column("counted", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_table(
        "insight_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "key", name=op.f("pk_insight_daily")),
    )
    op.create_table(
        "insight_daily_members",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "metric", "key", "member", name=op.f("pk_insight_daily_members")
        ),
    )
    op.create_index(op.f("ix_insight_daily_members_member"), "insight_daily_members", ["member"])
    op.create_table(
        "insight_answer_tallies",
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("question_id", "value", name=op.f("pk_insight_answer_tallies")),
    )
    op.create_table(
        "insight_answer_levels",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "question_id", "value", name=op.f("pk_insight_answer_levels")
        ),
    )
    op.create_table(
        "insight_stage_levels",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "stage", name=op.f("pk_insight_stage_levels")),
    )


def downgrade() -> None:
    op.drop_table("insight_stage_levels")
    op.drop_table("insight_answer_levels")
    op.drop_table("insight_answer_tallies")
    op.drop_index(op.f("ix_insight_daily_members_member"), table_name="insight_daily_members")
    op.drop_table("insight_daily_members")
    op.drop_table("insight_daily")
    with op.batch_alter_table("answers") as batch_op:
        batch_op.drop_column("counted")
