"""the console: staff with a console role (and no desk), what they did there, and full
verifications of the evidence log

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("console_role", sa.String(length=24), nullable=True))
        batch_op.alter_column("desk", existing_type=sa.String(length=16), nullable=True)
        batch_op.alter_column("location", existing_type=sa.String(length=200), nullable=True)
    op.create_table(
        "console_actions",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_console_actions")),
    )
    op.create_table(
        "evidence_verifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_verifications")),
    )
    op.create_index(
        op.f("ix_evidence_verifications_started_at"), "evidence_verifications", ["started_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evidence_verifications_started_at"), table_name="evidence_verifications")
    op.drop_table("evidence_verifications")
    op.drop_table("console_actions")
    with op.batch_alter_table("staff") as batch_op:
        batch_op.alter_column("location", existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column("desk", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("console_role")
