"""Model registry (versions, tags) and rollout experiments.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parley_model_versions",
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("fingerprints", sa.Text, nullable=False),
        sa.Column("data_hash", sa.String(64)),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("trained_by", sa.String(255)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("registered_at", sa.Float, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
    )
    op.create_table(
        "parley_model_tags",
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "parley_experiments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("control", sa.String(128), nullable=False),
        sa.Column("candidate", sa.String(128), nullable=False),
        sa.Column("percent", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("step_started_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("history", sa.Text, nullable=False),
    )
    op.create_index("ix_parley_experiments_status", "parley_experiments", ["status"])


def downgrade() -> None:
    op.drop_table("parley_experiments")
    op.drop_table("parley_model_tags")
    op.drop_table("parley_model_versions")
