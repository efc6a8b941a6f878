"""Studio: the search index of user/action events, tags, reviews, flags and NLU inbox decisions.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "parley_studio_turns",
        sa.Column("event_row_id", _ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("model_id", sa.String(128)),
        sa.Column("channel", sa.String(64)),
        sa.Column("intent", sa.String(255)),
        sa.Column("confidence", sa.Float),
        sa.Column("action", sa.String(255)),
        sa.Column("policy", sa.String(255)),
        sa.Column("text", sa.Text),
    )
    for column in ("sender_id", "model_id", "channel", "intent", "confidence", "action"):
        op.create_index(f"ix_parley_studio_turns_{column}", "parley_studio_turns", [column])
    op.create_table(
        "parley_studio_summaries",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("first_at", sa.Float, nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("model_id", sa.String(128)),
        sa.Column("user_messages", sa.Integer, nullable=False),
        sa.Column("min_confidence", sa.Float),
        sa.Column("handoff", sa.Integer, nullable=False),
        sa.Column("fallback", sa.Integer, nullable=False),
    )
    for column in ("first_at", "user_messages", "min_confidence"):
        op.create_index(f"ix_parley_studio_summaries_{column}", "parley_studio_summaries", [column])
    op.create_table(
        "parley_studio_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "parley_studio_tags",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_parley_studio_tags_tag", "parley_studio_tags", ["tag"])
    op.create_table(
        "parley_studio_reviews",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("reviewed_by", sa.String(255), nullable=False),
        sa.Column("reviewed_at", sa.Float, nullable=False),
    )
    op.create_table(
        "parley_studio_flags",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("flagged_by", sa.String(255), nullable=False),
        sa.Column("flagged_at", sa.Float, nullable=False),
    )
    op.create_table(
        "parley_studio_annotations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(255)),
        sa.Column("file", sa.String(1024)),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "parley_studio_annotations",
        "parley_studio_flags",
        "parley_studio_reviews",
        "parley_studio_tags",
        "parley_studio_state",
        "parley_studio_summaries",
        "parley_studio_turns",
    ):
        op.drop_table(table)
