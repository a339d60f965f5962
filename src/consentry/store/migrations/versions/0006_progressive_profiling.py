"""progressive profiling: the question bank, answers, asking state, loyalty points

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_table(
        "answers",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", "question_id", name=op.f("pk_answers")),
    )
    op.create_index(op.f("ix_answers_expires_at"), "answers", ["expires_at"])
    op.create_table(
        "profiling",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("stopped_at", sa.BigInteger(), nullable=True),
        sa.Column("last_question", sa.String(length=64), nullable=True),
        sa.Column("last_asked_at", sa.BigInteger(), nullable=True),
        sa.Column("last_visit", sa.String(length=64), nullable=True),
        sa.Column("last_channel", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_profiling")),
    )
    op.create_table(
        "points_accounts",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_points_accounts")),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_index(
        op.f("ix_points_entries_customer_id_question_id"),
        "points_entries",
        ["customer_id", "question_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_points_entries_customer_id_at"), "points_entries", ["customer_id", "at"]
    )


def downgrade() -> None:
    for table in ("points_entries", "points_accounts", "profiling", "answers", "questions"):
        op.drop_table(table)
