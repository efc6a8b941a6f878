"""Initial schema: conversations, append-only events, broker events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "parley_conversations",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("latest_event_time", sa.Float, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_parley_conversations_latest_event_time", "parley_conversations", ["latest_event_time"]
    )
    op.create_table(
        "parley_events",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("event_id", sa.String(64)),
        sa.Column("model_id", sa.String(128)),
        sa.Column("key_id", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("sender_id", "sequence", name="uq_parley_events_sender_sequence"),
    )
    op.create_index("ix_parley_events_timestamp", "parley_events", ["timestamp"])
    op.create_table(
        "parley_broker_events",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(64)),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_parley_broker_events_sender_id", "parley_broker_events", ["sender_id"])


def downgrade() -> None:
    op.drop_table("parley_broker_events")
    op.drop_table("parley_events")
    op.drop_table("parley_conversations")
