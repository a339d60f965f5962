"""the personal-data vault: sealed personal fields, blind indexes, access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:10:00

Personal fields change from plaintext to sealed values under keys this migration does not have,
so it refuses a database that already holds customers (there was no release with 0001 alone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM customers")).scalar()
    if held:
        raise RuntimeError(
            f"this database holds {held} customers in plaintext; export them with the version "
            "that wrote them and import them into a new database"
        )
    op.drop_table("identifiers")
    op.drop_table("evidence_openings")
    op.drop_table("customers")
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("postcode_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("pair_blind", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("restricted", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("erased_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_customers_pair_blind"), "customers", ["pair_blind"])
    op.create_table(
        "identifiers",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("blind", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_identifiers_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("kind", "blind", name=op.f("pk_identifiers")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_identifiers_customer_id"), "identifiers", ["customer_id"])
    op.create_table(
        "evidence_openings",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_evidence_openings")),
    )
    op.create_index(op.f("ix_evidence_openings_customer_id"), "evidence_openings", ["customer_id"])
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys") as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_idempotency_keys_customer_id"), ["customer_id"])
    op.create_table(
        "vault_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_vault_meta")),
    )
    op.create_table(
        "access_log",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("app_name", sa.String(length=200), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_at"), "access_log", ["at"])
    op.create_index(op.f("ix_access_log_customer_id_pk"), "access_log", ["customer_id", "pk"])


def downgrade() -> None:
    raise RuntimeError("the vault cannot be undone: sealed data has no plaintext to go back to")
