"""collection points, their versions and submissions; double opt-in confirmations

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("purposes", sa.Column("confirmation", sa.JSON(), nullable=True))
    op.create_table(
        "confirmations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("request_record", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.Column("reminded_at", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_confirmations")),
    )
    op.create_index(
        op.f("ix_confirmations_customer_id"), "confirmations", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_confirmations_created_at"), "confirmations", ["created_at"], unique=False
    )
    op.create_table(
        "collection_points",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("placement", sa.String(length=16), nullable=False),
        sa.Column("publishable_key", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_points")),
        sa.UniqueConstraint("publishable_key", name=op.f("uq_collection_points_publishable_key")),
    )
    op.create_table(
        "collection_point_versions",
        sa.Column("point_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["collection_points.id"],
            name=op.f("fk_collection_point_versions_point_id_collection_points"),
        ),
        sa.PrimaryKeyConstraint("point_id", "version", name=op.f("pk_collection_point_versions")),
    )
    op.create_table(
        "collection_submissions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("point_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("chosen", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_submissions")),
    )
    op.create_index(
        op.f("ix_collection_submissions_customer_id"),
        "collection_submissions",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_collection_submissions_point_id_day"),
        "collection_submissions",
        ["point_id", "day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("collection_submissions")
    op.drop_table("collection_point_versions")
    op.drop_table("collection_points")
    op.drop_table("confirmations")
    op.drop_column("purposes", "confirmation")
