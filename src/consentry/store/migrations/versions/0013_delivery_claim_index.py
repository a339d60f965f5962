"""deliveries are claimed per endpoint, in due order, asking of each whether an earlier one of
its customer is unfinished: indexes for both; and one for a customer's deliveries (export)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


UNFINISHED = "status IN ('pending', 'delivering')"


def upgrade() -> None:
    op.drop_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), table_name="webhook_deliveries"
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_endpoint_id_subject_position"), table_name="webhook_deliveries"
    )
    op.create_index(
        op.f("ix_webhook_deliveries_endpoint_id_status_next_attempt_at_position"),
        "webhook_deliveries",
        ["endpoint_id", "status", "next_attempt_at", "position"],
    )
    op.create_index(
        "ix_webhook_deliveries_unfinished",
        "webhook_deliveries",
        ["endpoint_id", "subject", "position"],
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_subject_position"),
        "webhook_deliveries",
        ["subject", "position"],
    )


def downgrade() -> None:
    for name in (
        "ix_webhook_deliveries_endpoint_id_status_next_attempt_at_position",
        "ix_webhook_deliveries_unfinished",
        "ix_webhook_deliveries_subject_position",
    ):
        op.drop_index(op.f(name), table_name="webhook_deliveries")
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"),
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_webhook_deliveries_endpoint_id_subject_position"),
        "webhook_deliveries",
        ["endpoint_id", "subject", "position"],
    )
