"""Counts for the analytics page, from SQL over the studio's index: per day, channel or model
version, the conversations, containment (no handoff), handoff and fallback rates and average
user messages; the top intents and the messages most often parsed as `nlu_fallback`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_schema import studio_summaries, studio_turns
from parley.studio.index import FALLBACK_INTENT

GROUPS = ("day", "channel", "model")


@dataclass(frozen=True)
class Bucket:
    key: str
    conversations: int
    handoffs: int
    fallbacks: int
    user_messages: int

    @property
    def containment(self) -> float:
        return 1 - self.handoffs / self.conversations if self.conversations else 0.0

    @property
    def handoff_rate(self) -> float:
        return self.handoffs / self.conversations if self.conversations else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.conversations if self.conversations else 0.0

    @property
    def average_turns(self) -> float:
        return self.user_messages / self.conversations if self.conversations else 0.0


@dataclass(frozen=True)
class Report:
    group: str
    buckets: list[Bucket]
    top_intents: list[tuple[str, int]]
    top_fallback_messages: list[tuple[str, int]]


def _flag(condition: Any) -> Any:
    return func.max(case((condition, 1), else_=0))


async def report(engine: AsyncEngine, group: str, since: float | None, until: float | None,
                 limit: int = 366) -> Report:  # fmt: skip
    """Conversations are placed by their first indexed event (its day, its first channel, its
    model); only conversations with a first event in [since, until) count."""
    t = studio_turns.c
    c = studio_summaries.c
    key: Any = {
        "day": cast(c.first_at, BigInteger) // 86400,  # floor division on both dialects
        "channel": func.coalesce(c.channel, "(none)"),
        "model": func.coalesce(c.model_id, "(none)"),
    }[group]
    query = select(
        key.label("key"),
        func.count(),
        func.sum(c.handoff),
        func.sum(c.fallback),
        func.sum(c.user_messages),
    )
    if since is not None:
        query = query.where(c.first_at >= since)
    if until is not None:
        query = query.where(c.first_at < until)
    query = query.group_by(key).order_by(key).limit(limit)
    turns = select(t.intent, func.count().label("n")).where(t.type_name == "user")
    if since is not None:
        turns = turns.where(t.timestamp >= since)
    if until is not None:
        turns = turns.where(t.timestamp < until)
    top = turns.where(t.intent.is_not(None)).group_by(t.intent).order_by(func.count().desc())
    fallback_texts = (
        select(t.text, func.count())
        .where(t.type_name == "user", t.intent == FALLBACK_INTENT, t.text.is_not(None))
        .group_by(t.text)
        .order_by(func.count().desc())
        .limit(10)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        intents = [(str(r[0]), int(r[1])) for r in await connection.execute(top.limit(10))]
        texts = [(str(r[0]), int(r[1])) for r in await connection.execute(fallback_texts)]
    buckets = [
        Bucket(_label(group, r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0))
        for r in rows
    ]
    return Report(group, buckets, intents, texts)


def _label(group: str, key: Any) -> str:
    if group == "day":
        return datetime.fromtimestamp(int(key) * 86400, tz=UTC).date().isoformat()
    return str(key)


def day_start(value: date) -> float:
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
