"""Counts for the analytics page, from SQL over the studio's index: per day, channel or model
version, the conversations, unique users, containment (no handoff), handoff, fallback and
abandonment rates and average user messages; the top intents and the messages most often parsed
as `nlu_fallback`.

A user is a sender id (Rasa's conversation id: the channel's id of the person, e.g. a Slack or
Telegram user, or what a REST client sends). Users are counted where they were active: per day,
the senders with a user message that day; per channel or model, the senders whose conversation
(placed like conversations are) had an event in the period. Conversations are counted where they started.
An abandoned conversation ended unresolved (`parley.studio.index.abandoned`) and has been quiet
for `ABANDONED_AFTER` seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_schema import studio_facts, studio_summaries, studio_turns
from parley.studio.index import ABANDONED_AFTER, DAY, FALLBACK_INTENT

GROUPS = ("day", "channel", "model")


@dataclass(frozen=True)
class Bucket:
    key: str
    conversations: int
    handoffs: int
    fallbacks: int
    user_messages: int
    abandoned: int = 0
    users: int = 0

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
    def abandonment_rate(self) -> float:
        return self.abandoned / self.conversations if self.conversations else 0.0

    @property
    def average_turns(self) -> float:
        return self.user_messages / self.conversations if self.conversations else 0.0


@dataclass(frozen=True)
class Report:
    group: str
    buckets: list[Bucket]
    top_intents: list[tuple[str, int]]
    top_fallback_messages: list[tuple[str, int]]


async def report(engine: AsyncEngine, group: str, since: float | None, until: float | None,
                 limit: int = 366, now: float | None = None) -> Report:  # fmt: skip
    """Conversations are placed by their first indexed event (its day, its greatest channel,
    its greatest model); only conversations with a first event in [since, until) count. Users
    per day count on the days they wrote; per channel or model, a sender counts when its
    conversation had an event in the period. Intents count in the period by their own day."""
    c = studio_summaries.c
    quiet_since = (time.time() if now is None else now) - ABANDONED_AFTER
    key: Any = {
        "day": c.first_day,
        "channel": func.coalesce(c.channel, "(none)"),
        "model": func.coalesce(c.model_id, "(none)"),
    }[group]
    gone = and_(c.abandoned == 1, c.last_at < quiet_since)
    started = and_(
        True,
        *([c.first_at >= since] if since is not None else []),
        *([c.first_at < until] if until is not None else []),
    )
    if group == "day":
        active: Any = started  # users per day come from the facts of the days they wrote
    else:  # a sender counts for its conversation's channel / model if active in the period
        active = and_(
            True,
            *([c.last_at >= since] if since is not None else []),
            *([c.first_at < until] if until is not None else []),
        )

    def among_started(value: Any) -> Any:
        return func.sum(case((started, value), else_=0))

    query = (
        select(
            key.label("key"),
            among_started(1),
            among_started(c.handoff),
            among_started(c.fallback),
            among_started(c.user_messages),
            among_started(case((gone, 1), else_=0)),
            func.count(),
        )
        .where(active)
        .group_by(key)
        .order_by(key)
        .limit(limit)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        if group == "day":
            users = {
                _label(group, r[0]): int(r[1])
                for r in await connection.execute(_users_per_day(since, until).limit(limit))
            }
        else:
            users = {_label(group, r[0]): int(r[6]) for r in rows}
        intents = [
            (str(r[0]), int(r[1])) for r in await connection.execute(_top_intents(since, until))
        ]
        texts = [(str(r[0]), int(r[1])) for r in await connection.execute(_fallback_texts())]
    found = {
        _label(group, r[0]): Bucket(_label(group, r[0]), int(r[1]), int(r[2] or 0),
                                    int(r[3] or 0), int(r[4] or 0), int(r[5] or 0))
        for r in rows
        if r[1]
    }  # fmt: skip
    for name in users:
        found.setdefault(name, Bucket(name, 0, 0, 0, 0))
    buckets = [replace(found[k], users=users.get(k, 0)) for k in sorted(found)]
    return Report(group, buckets, intents, texts)


def _days(since: float | None, until: float | None, *conditions: Any) -> list[Any]:
    f = studio_facts.c
    out = list(conditions)
    if since is not None:
        out.append(f.day >= int(since // DAY))
    if until is not None:
        out.append(f.day < -int(-until // DAY))
    return out


def _users_per_day(since: float | None, until: float | None) -> Any:
    """Distinct senders that wrote, per day: one "active" fact per sender and day."""
    f = studio_facts.c
    where = _days(since, until, f.kind == "active")
    return select(f.day, func.count()).where(*where).group_by(f.day).order_by(f.day)


def _top_intents(since: float | None, until: float | None) -> Any:
    f = studio_facts.c
    messages = func.sum(f.events)
    return (
        select(f.value, messages)
        .where(*_days(since, until, f.kind == "intent", f.name == ""))
        .group_by(f.value)
        .order_by(messages.desc(), f.value)
        .limit(10)
    )


def _fallback_texts() -> Any:
    t = studio_turns.c
    return (
        select(t.text, func.count())
        .where(t.intent == FALLBACK_INTENT, t.text.is_not(None))  # an intent: a user row
        .group_by(t.text)
        .order_by(func.count().desc())
        .limit(10)
    )


def _label(group: str, key: Any) -> str:
    if group == "day":
        return datetime.fromtimestamp(int(key) * 86400, tz=UTC).date().isoformat()
    return str(key)


def day_start(value: date) -> float:
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
