"""SQL of the studio: the filtered, paginated conversation list, the NLU inbox, and the
reviewers' tags, flags, reviews and inbox decisions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Table, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import (
    conversations,
    studio_annotations,
    studio_changeset,
    studio_facts,
    studio_flags,
    studio_reviews,
    studio_summaries,
    studio_tags,
    studio_turns,
)
from parley.studio.index import ABANDONED_AFTER
from parley.studio.values import ValueKeeper

PAGE_SIZE = 50
# From this many matches on, a page is fetched by walking the list newest first (see `_has`).
DENSE = 1000


class ConversationFilter(BaseModel):
    """The list's filters, as query parameters (empty strings mean "any")."""

    model_config = ConfigDict(extra="ignore")
    active_from: date | None = None  # last activity on or after (UTC day)
    active_to: date | None = None
    started_from: date | None = None
    started_to: date | None = None
    channel: str = ""
    model: str = ""
    intent: str = ""
    action: str = ""
    low_confidence: bool = False
    threshold: float = Field(default=0.6, ge=0, le=1)
    fallback: bool = False
    handoff: bool = False
    abandoned: bool = False
    slot: str = Field(default="", max_length=255)  # the slot was set (to slot_value, if given)
    slot_value: str = Field(default="", max_length=1000)
    entity: str = Field(default="", max_length=255)  # the entity was extracted (entity_value)
    entity_value: str = Field(default="", max_length=1000)
    min_turns: int | None = Field(default=None, ge=0)
    max_turns: int | None = Field(default=None, ge=0)
    tag: str = ""
    review: str = ""  # "", reviewed, unreviewed
    text: str = Field(default="", max_length=200)
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator(
        "active_from", "active_to", "started_from", "started_to", "min_turns", "max_turns",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _empty_is_any(cls, value: object) -> object:
        """A form sends its empty date and number fields as empty strings: no filter."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _value_needs_its_name(self) -> ConversationFilter:
        for name in ("slot", "entity"):
            if getattr(self, f"{name}_value") and not getattr(self, name):
                raise ValueError(f"{name}_value needs {name}: the {name} whose value it is")
        return self

    def reads_summary(self) -> bool:
        """Some filter is on the conversation's summary row (length, confidence, outcome)."""
        return (
            self.low_confidence or self.fallback or self.handoff or self.abandoned
            or self.min_turns is not None or self.max_turns is not None
        )  # fmt: skip

    def query_string(self) -> str:
        """The filter as the list's query string: the fields that differ from "any", no page."""
        fields = self.model_dump(exclude_defaults=True, exclude={"page"})
        if "threshold" in fields and not self.low_confidence:
            del fields["threshold"]
        text = {k: ("true" if v is True else str(v)) for k, v in fields.items()}
        return urlencode(sorted(text.items()))


@dataclass
class ConversationRow:
    sender_id: str
    created_at: float
    latest_event_time: float
    turns: int
    tags: list[str] = field(default_factory=list)
    reviewed: bool = False


@dataclass
class Page:
    rows: list[ConversationRow]
    total: int
    page: int
    pages: int


def _day(value: date, end: bool = False) -> float:
    start = datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return start + 86400 if end else start


def _has(table: Table, correlated: bool, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The conversation has a row of `table` (keyed by sender_id) meeting `conditions`.

    Uncorrelated (an IN semi-join) to count: the database reads the matching rows once. A
    correlated EXISTS to fetch a page of a list that matches many conversations: walking
    `latest_event_time` newest first, it probes each conversation's rows by their key and stops
    at the page's end, where an IN would first collect every match (and SQLite then sort them).
    """
    if correlated:
        return exists().where(table.c.sender_id == conversations.c.sender_id, *conditions)
    return conversations.c.sender_id.in_(select(table.c.sender_id).where(*conditions))


def _user_turns() -> Any:
    return func.coalesce(
        select(studio_summaries.c.user_messages)
        .where(studio_summaries.c.sender_id == conversations.c.sender_id)
        .scalar_subquery(),
        0,
    )


def conditions(
    where: ConversationFilter,
    values: ValueKeeper | None = None,
    now: float | None = None,
    correlated: bool = False,
    summary_joined: bool = False,
) -> list[ColumnElement[bool]]:
    """The SQL conditions on `parley_conversations` of a filter. `values`: how the store keeps
    slot and entity values (in clear when not given); `correlated`: see `_has`;
    `summary_joined`: the query joins `parley_studio_summaries` (see `count`).

    Label, slot and entity filters read `parley_studio_facts` (one row per conversation and day,
    see `parley.studio.index`); length, confidence, fallback, handoff and abandonment read the
    summary row; free text reads the turns."""
    c = conversations.c
    t = studio_turns.c
    out: list[ColumnElement[bool]] = []
    if where.active_from:
        out.append(c.latest_event_time >= _day(where.active_from))
    if where.active_to:
        out.append(c.latest_event_time < _day(where.active_to, end=True))
    if where.started_from:
        out.append(c.created_at >= _day(where.started_from))
    if where.started_to:
        out.append(c.created_at < _day(where.started_to, end=True))
    f = studio_facts.c
    for kind, label in (("channel", where.channel), ("model", where.model),
                        ("intent", where.intent), ("action", where.action)):  # fmt: skip
        if label:
            out.append(
                _has(studio_facts, correlated, f.kind == kind, f.name == "", f.value == label)
            )
    keeper = values or ValueKeeper(EventCipher(None))
    for kind, name, value in (("slot", where.slot, where.slot_value),
                              ("entity", where.entity, where.entity_value)):  # fmt: skip
        if name:
            fact = [f.kind == kind, f.name == name]
            if value:
                fact.append(f.value.in_(keeper.searched(value)))
            out.append(_has(studio_facts, correlated, *fact))
    s = studio_summaries.c

    def _summary(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        if summary_joined:  # the query joins the summaries: a plain condition
            return and_(*conditions)
        return _has(studio_summaries, correlated, *conditions)

    if where.low_confidence:
        out.append(_summary(s.min_confidence < where.threshold))
    if where.fallback:
        out.append(_summary(s.fallback == 1))
    if where.handoff:
        out.append(_summary(s.handoff == 1))
    if where.abandoned:
        quiet_since = (time.time() if now is None else now) - ABANDONED_AFTER
        out.append(_summary(s.abandoned == 1, s.last_at < quiet_since))
    if where.min_turns is not None:
        out.append(_summary(s.user_messages >= where.min_turns))
    if where.max_turns is not None:
        out.append(_summary(s.user_messages <= where.max_turns))
    if where.tag:
        out.append(_has(studio_tags, correlated, studio_tags.c.tag == where.tag))
    reviewed = _has(studio_reviews, correlated)
    if where.review == "reviewed":
        out.append(reviewed)
    elif where.review == "unreviewed":
        out.append(~reviewed)
    if where.text:
        needle = where.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(
            or_(
                c.sender_id.contains(where.text, autoescape=True),
                _has(
                    studio_turns,
                    correlated,
                    t.text.is_not(None),
                    t.text.like(f"%{needle}%", escape="\\"),
                ),
            )
        )
    return out


async def list_conversations(
    engine: AsyncEngine, where: ConversationFilter, values: ValueKeeper | None = None
) -> Page:
    """One page of conversations matching `where`, most recently active first."""
    now = time.time()
    async with engine.connect() as connection:
        total = await count(connection, where, values, now)
        query = (
            select(
                conversations.c.sender_id,
                conversations.c.created_at,
                conversations.c.latest_event_time,
                _user_turns().label("turns"),
            )
            .where(and_(True, *conditions(where, values, now, correlated=_walk(connection, total))))
            .order_by(conversations.c.latest_event_time.desc(), conversations.c.sender_id)
            .limit(PAGE_SIZE)
            .offset((where.page - 1) * PAGE_SIZE)
        )
        rows = [
            ConversationRow(r[0], r[1], r[2], int(r[3])) for r in await connection.execute(query)
        ]
        ids = [row.sender_id for row in rows]
        tags = await _tags_of(connection, ids)
        reviewed = {
            r[0]
            for r in await connection.execute(
                select(studio_reviews.c.sender_id).where(studio_reviews.c.sender_id.in_(ids))
            )
        }
    for row in rows:
        row.tags = tags.get(row.sender_id, [])
        row.reviewed = row.sender_id in reviewed
    return Page(rows, total, where.page, max(1, -(-total // PAGE_SIZE)))


def _walk(connection: AsyncConnection, total: int) -> bool:
    """Fetch the page with correlated probes (see `_has`): on SQLite, for many matches.
    PostgreSQL plans an IN as a hashed semi-join and stops early by itself; a correlated
    EXISTS there becomes a per-row subplan (and, costed high, a JIT compilation)."""
    return total >= DENSE and connection.dialect.name == "sqlite"


async def count(
    connection: AsyncConnection, where: ConversationFilter, values: ValueKeeper | None, now: float
) -> int:
    """How many conversations match. A summary filter joins the summaries rather than testing
    membership: the database walks the summary index and probes each conversation, where an IN
    would first collect every match (most of them, for "confidence below 0.6")."""
    joined = where.reads_summary()
    source = (
        conversations.join(
            studio_summaries, studio_summaries.c.sender_id == conversations.c.sender_id
        )
        if joined
        else conversations
    )
    condition = and_(True, *conditions(where, values, now, summary_joined=joined))
    query = select(func.count()).select_from(source).where(condition)
    return int((await connection.execute(query)).scalar() or 0)


async def _tags_of(connection: AsyncConnection, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    query = (
        select(studio_tags.c.sender_id, studio_tags.c.tag)
        .where(studio_tags.c.sender_id.in_(ids))
        .order_by(studio_tags.c.tag)
    )
    for sender_id, tag in await connection.execute(query):
        found.setdefault(sender_id, []).append(tag)
    return found


async def choices(engine: AsyncEngine) -> dict[str, list[str]]:
    """The values the filter's drop-downs offer: channels, model versions, intents, actions,
    slot and entity names, tags."""
    t = studio_turns.c
    out: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for name, column in (
            ("channel", t.channel),
            ("model", t.model_id),
            ("intent", t.intent),
            ("action", t.action),
        ):
            query = select(column).where(column.is_not(None)).distinct().order_by(column).limit(500)
            out[name] = [r[0] for r in await connection.execute(query)]
        for kind in ("slot", "entity"):
            f = studio_facts.c
            query = select(f.name).where(f.kind == kind).distinct().order_by(f.name).limit(500)
            out[kind] = [r[0] for r in await connection.execute(query)]
        query = select(studio_tags.c.tag).distinct().order_by(studio_tags.c.tag).limit(500)
        out["tag"] = [r[0] for r in await connection.execute(query)]
    return out


@dataclass
class Marks:
    """What reviewers recorded on one conversation."""

    tags: list[str]
    reviewed_by: str | None
    flagged: set[int]
    decisions: dict[int, tuple[str, str | None]]


async def marks(engine: AsyncEngine, sender_id: str) -> Marks:
    async with engine.connect() as connection:
        tags = (await _tags_of(connection, [sender_id])).get(sender_id, [])
        review = (
            await connection.execute(
                select(studio_reviews.c.reviewed_by).where(studio_reviews.c.sender_id == sender_id)
            )
        ).scalar()
        flagged = {
            r[0]
            for r in await connection.execute(
                select(studio_flags.c.sequence).where(studio_flags.c.sender_id == sender_id)
            )
        }
        decisions = {
            r[0]: (r[1], r[2])
            for r in await connection.execute(
                select(
                    studio_annotations.c.sequence,
                    studio_annotations.c.decision,
                    studio_annotations.c.intent,
                ).where(studio_annotations.c.sender_id == sender_id)
            )
        }
    return Marks(tags, review, flagged, decisions)


async def add_tag(engine: AsyncEngine, sender_id: str, tag: str, by: str) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_tags).where(
                studio_tags.c.sender_id == sender_id, studio_tags.c.tag == tag
            )
        )
        await connection.execute(
            studio_tags.insert().values(
                sender_id=sender_id, tag=tag, created_by=by, created_at=time.time()
            )
        )


async def remove_tag(engine: AsyncEngine, sender_id: str, tag: str) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_tags).where(
                studio_tags.c.sender_id == sender_id, studio_tags.c.tag == tag
            )
        )


async def set_reviewed(engine: AsyncEngine, sender_id: str, by: str, reviewed: bool) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_reviews).where(studio_reviews.c.sender_id == sender_id)
        )
        if reviewed:
            await connection.execute(
                studio_reviews.insert().values(
                    sender_id=sender_id, reviewed_by=by, reviewed_at=time.time()
                )
            )


async def set_flag(engine: AsyncEngine, sender_id: str, sequence: int, by: str, on: bool) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_flags).where(
                studio_flags.c.sender_id == sender_id, studio_flags.c.sequence == sequence
            )
        )
        if on:
            await connection.execute(
                studio_flags.insert().values(
                    sender_id=sender_id, sequence=sequence, flagged_by=by, flagged_at=time.time()
                )
            )


async def forget_marks(connection: AsyncConnection, sender_id: str) -> None:
    """Drop what reviewers recorded on a deleted conversation."""
    for table in (studio_tags, studio_reviews, studio_flags, studio_annotations, studio_changeset):
        await connection.execute(delete(table).where(table.c.sender_id == sender_id))


# The NLU inbox.


@dataclass
class InboxItem:
    sender_id: str
    sequence: int
    intent: str | None
    confidence: float | None
    text: str
    flagged: bool
    problems: list[str] = field(default_factory=list)  # duplicates/contradictions found


async def inbox_candidates(
    engine: AsyncEngine, threshold: float, limit: int = 200
) -> list[tuple[str, int, int, str | None, float | None, bool]]:
    """(sender, sequence, event row id, intent, confidence, flagged) of user messages below
    `threshold` or flagged, not yet decided, newest first."""
    t = studio_turns.c
    flagged = exists().where(
        studio_flags.c.sender_id == t.sender_id, studio_flags.c.sequence == t.sequence
    )
    decided = exists().where(
        studio_annotations.c.sender_id == t.sender_id, studio_annotations.c.sequence == t.sequence
    )
    query = (
        select(t.sender_id, t.sequence, t.event_row_id, t.intent, t.confidence, flagged)
        .where(t.type_name == "user", or_(t.confidence < threshold, flagged), ~decided)
        .order_by(t.timestamp.desc())
        .limit(limit)
    )
    async with engine.connect() as connection:
        return [
            (r[0], int(r[1]), int(r[2]), r[3], r[4], bool(r[5]))
            for r in await connection.execute(query)
        ]


async def decide(
    engine: AsyncEngine,
    sender_id: str,
    sequence: int,
    decision: str,
    intent: str | None,
    file: str | None,
    by: str,
) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_annotations).where(
                studio_annotations.c.sender_id == sender_id,
                studio_annotations.c.sequence == sequence,
            )
        )
        await connection.execute(
            studio_annotations.insert().values(
                sender_id=sender_id,
                sequence=sequence,
                decision=decision,
                intent=intent,
                file=file,
                decided_by=by,
                decided_at=time.time(),
            )
        )
