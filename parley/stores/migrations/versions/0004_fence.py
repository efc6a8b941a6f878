"""Fencing tokens: each conversation keeps the highest lock token a turn appended with.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("parley_conversations", sa.Column("fence", sa.BigInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("parley_conversations", "fence")
