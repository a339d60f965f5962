"""offers and decisions: categories, sensitive topics, products, offers, complements,
decisions, dismissals

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sensitive_topic", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_categories")),
    )
    op.create_table(
        "sensitive_topics",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("answered_with", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_topics")),
    )
    op.create_table(
        "products",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_products")),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_table(
        "complements",
        sa.Column("antecedent", sa.String(length=200), nullable=False),
        sa.Column("consequent", sa.String(length=200), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("lift", sa.Float(), nullable=False),
        sa.Column("learnt_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("antecedent", "consequent", name=op.f("pk_complements")),
    )
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
    )
    op.execute("INSERT INTO catalogue_version (id, version) VALUES (1, 0)")
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=False),
        sa.Column("offer_ids", sa.JSON(), nullable=False),
        sa.Column("chosen", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(
        op.f("ix_decisions_customer_id_decided_at"), "decisions", ["customer_id", "decided_at"]
    )
    op.create_index(op.f("ix_decisions_decided_at"), "decisions", ["decided_at"])
    op.create_table(
        "offer_dismissals",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "offer_id", name=op.f("pk_offer_dismissals")),
    )


def downgrade() -> None:
    for table in (
        "offer_dismissals",
        "decisions",
        "catalogue_version",
        "complements",
        "offers",
        "products",
        "sensitive_topics",
        "categories",
    ):
        op.drop_table(table)
