"""Studio: the change set of NLU annotations and promoted clusters kept for download.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parley_studio_changeset",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("new_intent", sa.Integer, nullable=False),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_index("ix_parley_studio_changeset_added_at", "parley_studio_changeset", ["added_at"])


def downgrade() -> None:
    op.drop_table("parley_studio_changeset")
