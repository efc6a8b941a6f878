"""Table definitions of the SQL tracker store and SQL event broker (queries use these; the
schema itself is created by the Alembic migrations in `parley/stores/migrations/`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

conversations = Table(
    "parley_conversations",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("latest_event_time", Float, nullable=False, index=True),
    # The per-conversation sequence counter: a turn reserves its range by incrementing it.
    Column("event_count", Integer, nullable=False),
    # The highest fencing token a turn appended with (Redis locks); older tokens are refused.
    Column("fence", BigInteger),
)

events = Table(
    "parley_events",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("type_name", String(64), nullable=False),
    Column("timestamp", Float, nullable=False, index=True),
    Column("event_id", String(64)),
    Column("model_id", String(128)),
    Column("key_id", String(32)),
    Column("body", Text, nullable=False),
    UniqueConstraint("sender_id", "sequence", name="uq_parley_events_sender_sequence"),
)

broker_events = Table(
    "parley_broker_events",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("event_id", String(64)),
    Column("data", Text, nullable=False),
)
