"""purposes grouped the way customers think of them (the preference centre's sections)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, as in 0003 (the notices' foreign key forbids a batch copy).
    op.add_column(
        "purposes",
        sa.Column(
            "section", sa.String(length=32), server_default=sa.text("'messages'"), nullable=False
        ),
    )
    # Existing purposes get the section a new one would get (domain.purposes.default_section).
    op.execute(
        "UPDATE purposes SET section = 'services'"
        " WHERE legal_basis IN ('contract', 'legal_obligation')"
    )
    op.execute("UPDATE purposes SET section = 'sharing' WHERE section = 'messages' AND gpc")
    op.execute(
        "UPDATE purposes SET section = 'chosen_for_me'"
        " WHERE section = 'messages' AND CAST(channels AS TEXT) = '[]'"
    )


def downgrade() -> None:
    op.drop_column("purposes", "section")
