"""the log's order beside the records: pending_leaves and log_leaves, no evidence_records.seq

Setting ``seq`` on a record rewrote the whole record and, on PostgreSQL, every index entry of
it (``seq`` was indexed, so the update could not be HOT): 4.6 of the 15 seconds PostgreSQL
spent on an import of 200,000 rows. Now a record's leaf waits in ``pending_leaves`` (inserted
with the record) and the sequencer moves it to ``log_leaves`` (seq, record, leaf hash), two
narrow insert-only tables. The records keep their place in the tree: every sequenced record
gets its ``seq`` in ``log_leaves``, every other one waits in ``pending_leaves``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _pk() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_leaves",
        sa.Column("record_pk", _pk(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("record_pk", name=op.f("pk_pending_leaves")),
    )
    op.create_table(
        "log_leaves",
        sa.Column("seq", _pk(), autoincrement=False, nullable=False),
        sa.Column("record_pk", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("record_pk", name=op.f("uq_log_leaves_record_pk")),
    )
    op.execute(
        "INSERT INTO log_leaves (seq, record_pk, leaf_hash) "
        "SELECT seq, pk, leaf_hash FROM evidence_records WHERE seq IS NOT NULL ORDER BY seq"
    )
    op.execute(
        "INSERT INTO pending_leaves (record_pk, leaf_hash) "
        "SELECT pk, leaf_hash FROM evidence_records WHERE seq IS NULL ORDER BY pk"
    )
    with op.batch_alter_table("evidence_records") as batch_op:
        batch_op.drop_index("ix_evidence_records_pending")
        batch_op.drop_constraint(op.f("uq_evidence_records_seq"), type_="unique")
        batch_op.drop_column("seq")


def downgrade() -> None:
    with op.batch_alter_table("evidence_records") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_evidence_records_seq"), ["seq"])
    op.execute(
        "UPDATE evidence_records SET seq = "
        "(SELECT seq FROM log_leaves WHERE log_leaves.record_pk = evidence_records.pk)"
    )
    op.create_index(
        "ix_evidence_records_pending",
        "evidence_records",
        ["pk"],
        sqlite_where=sa.text("seq IS NULL"),
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.drop_table("log_leaves")
    op.drop_table("pending_leaves")
