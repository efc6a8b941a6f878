"""Studio: saved filters, per-conversation facts (labels, slots, entities, active days),
abandonment in the summaries, covering indexes for the list's summary filters.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SUMMARIES = "parley_studio_summaries"


def upgrade() -> None:
    with op.batch_alter_table("parley_studio_turns") as table:
        table.add_column(sa.Column("loop", sa.String(255)))
    not_null = sa.text("text IS NOT NULL")
    op.create_index(
        "ix_parley_studio_turns_text", "parley_studio_turns", ["intent", "text", "sender_id"],
        sqlite_where=not_null, postgresql_where=not_null,
    )  # fmt: skip
    with op.batch_alter_table(_SUMMARIES) as table:
        table.add_column(sa.Column("last_at", sa.Float))
        table.add_column(sa.Column("first_day", sa.Integer))
        table.add_column(sa.Column("abandoned", sa.Integer, nullable=False, server_default="0"))
    op.drop_index("ix_parley_studio_summaries_user_messages", _SUMMARIES)
    op.drop_index("ix_parley_studio_summaries_min_confidence", _SUMMARIES)
    op.create_index(
        "ix_parley_studio_summaries_confidence_sender", _SUMMARIES, ["min_confidence", "sender_id"]
    )
    op.create_index(
        "ix_parley_studio_summaries_messages_sender", _SUMMARIES, ["user_messages", "sender_id"]
    )
    op.create_table(
        "parley_studio_facts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(255), primary_key=True),
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("events", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_parley_studio_facts_sender_id", "parley_studio_facts", ["sender_id"])
    op.create_index("ix_parley_studio_facts_kind_day", "parley_studio_facts", ["kind", "day"])
    op.create_table(
        "parley_studio_saved_filters",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("shared", sa.Integer, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_parley_studio_saved_filters_owner_name"),
    )
    # Conversations indexed before this revision have no facts: index them again from the start.
    op.execute("DELETE FROM parley_studio_state WHERE name = 'turns_indexed_up_to'")
    op.execute("DELETE FROM parley_studio_turns")
    op.execute(f"DELETE FROM {_SUMMARIES}")


def downgrade() -> None:
    op.drop_table("parley_studio_saved_filters")
    op.drop_table("parley_studio_facts")
    op.drop_index("ix_parley_studio_summaries_messages_sender", _SUMMARIES)
    op.drop_index("ix_parley_studio_summaries_confidence_sender", _SUMMARIES)
    op.create_index("ix_parley_studio_summaries_min_confidence", _SUMMARIES, ["min_confidence"])
    op.create_index("ix_parley_studio_summaries_user_messages", _SUMMARIES, ["user_messages"])
    with op.batch_alter_table(_SUMMARIES) as table:
        table.drop_column("abandoned")
        table.drop_column("first_day")
        table.drop_column("last_at")
    op.drop_index("ix_parley_studio_turns_text", "parley_studio_turns")
    with op.batch_alter_table("parley_studio_turns") as table:
        table.drop_column("loop")
