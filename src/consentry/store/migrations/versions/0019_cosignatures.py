"""witnesses' cosignatures of the log's checkpoints

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cosignatures",
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("witness", "size", name=op.f("pk_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("cosignatures")
