"""Saved filters: a filter set of the conversation list kept under a name, by its owner, private
or shared with every user who may read conversations.

A user sees their own filters and the shared ones; saving under a name they already used
replaces that filter. Only the owner deletes a filter, or an administrator (a user who may
manage users, `users:manage`) a shared one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from pydantic import ValidationError
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.access.principal import Principal
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import studio_saved_filters
from parley.studio.queries import ConversationFilter

ADMIN_PERMISSION = "users:manage"
MAX_SAVED = 200  # filters listed for one user


class SavedFilterError(ValueError):
    """A filter that cannot be saved or deleted; the message says why."""


@dataclass(frozen=True)
class SavedFilter:
    id: int
    name: str
    owner: str
    shared: bool
    query: str  # the list's query string
    created_at: float

    def deletable_by(self, caller: Principal) -> bool:
        return self.owner == caller.name or (self.shared and ADMIN_PERMISSION in caller.permissions)


def filter_query(query: str) -> str:
    """The canonical query string of a list filter; raises SavedFilterError when it is not one."""
    try:
        where = ConversationFilter.model_validate(dict(parse_qsl(query.lstrip("?"))))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'filter'}: {e['msg']}" for e in exc.errors()
        )
        raise SavedFilterError(f"Not a filter of the conversation list: {problems}.") from None
    return where.query_string()


def _row(row: object) -> SavedFilter:
    r = row._mapping  # type: ignore[attr-defined]
    return SavedFilter(
        int(r["id"]), r["name"], r["owner"], bool(r["shared"]), r["query"], r["created_at"]
    )


async def save(engine: AsyncEngine, owner: str, name: str, query: str, shared: bool) -> SavedFilter:
    name = " ".join(name.split())
    if not name:
        raise SavedFilterError("Give the filter a name.")
    canonical = filter_query(query)
    s = studio_saved_filters.c
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_saved_filters).where(s.owner == owner, s.name == name)
        )
        await connection.execute(
            studio_saved_filters.insert().values(
                name=name, owner=owner, shared=int(shared), query=canonical, created_at=time.time()
            )
        )
        row = (
            await connection.execute(
                select(studio_saved_filters).where(s.owner == owner, s.name == name)
            )
        ).one()
    return _row(row)


async def visible(engine: AsyncEngine, user: str) -> list[SavedFilter]:
    """The user's own filters and the shared ones, by name."""
    s = studio_saved_filters.c
    query = (
        select(studio_saved_filters)
        .where(or_(s.owner == user, s.shared == 1))
        .order_by(s.name, s.owner)
        .limit(MAX_SAVED)
    )
    async with engine.connect() as connection:
        return [_row(row) for row in await connection.execute(query)]


async def find(engine: AsyncEngine, filter_id: int, user: str) -> SavedFilter | None:
    """The filter if `user` may see it (theirs, or shared)."""
    s = studio_saved_filters.c
    query = select(studio_saved_filters).where(
        s.id == filter_id, or_(s.owner == user, s.shared == 1)
    )
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    return _row(row) if row is not None else None


async def remove(engine: AsyncEngine, filter_id: int) -> None:
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_saved_filters).where(studio_saved_filters.c.id == filter_id)
        )
