"""erasure propagation: apps that hold customer data, erasures and their acknowledgements

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_holders",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("declared_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_data_holders")),
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_subject"), "erasures", ["subject"])
    op.create_table(
        "erasure_acks",
        sa.Column("erasure_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("reminded_at", sa.BigInteger(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("erasure_id", "app_id", name=op.f("pk_erasure_acks")),
    )
    op.create_index(
        op.f("ix_erasure_acks_acknowledged_at_reminded_at"),
        "erasure_acks",
        ["acknowledged_at", "reminded_at"],
    )


def downgrade() -> None:
    for table in ("erasure_acks", "erasures", "data_holders"):
        op.drop_table(table)
