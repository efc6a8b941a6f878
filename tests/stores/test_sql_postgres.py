"""The PostgreSQL turn path (one statement per load and per append, group commit) against a
real PostgreSQL: turns committed together fail alone, broken connections are replaced."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from parley.stores import SQLTrackerStore
from parley.stores.sql_postgres import PostgresTurns
from tests.stores.conftest import drop_schema, postgres_settings, unique_name

pytestmark = pytest.mark.integration
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLTrackerStore]:
    schema = unique_name("pgturns")
    opened = await SQLTrackerStore.open(postgres_settings(schema), tmp_path)
    yield opened
    await opened.close()
    await drop_schema(schema)


def turn(text: str) -> list[dict[str, object]]:
    return [
        {
            "event": "user",
            "timestamp": 1.0,
            "text": text,
            "metadata": {"event_id": uuid.uuid4().hex},
        },
        {"event": "action", "timestamp": 1.1, "name": "action_listen"},
    ]


async def test_a_bad_turn_committed_with_others_fails_alone(store: SQLTrackerStore) -> None:
    results = await asyncio.gather(
        *(store.append(f"fine-{i}", turn("hello")) for i in range(6)),
        store.append("x" * 300, turn("too long an id for the column")),
        return_exceptions=True,
    )
    assert isinstance(results[-1], Exception)
    assert not any(isinstance(r, BaseException) for r in results[:-1])
    for i in range(6):
        assert [e["event"] for e in await store.load(f"fine-{i}") or []] == ["user", "action"]


async def test_connections_killed_by_the_server_are_replaced(store: SQLTrackerStore) -> None:
    await store.append("c", turn("before"))
    await asyncio.gather(*(store.load_after("c", None) for _ in range(4)))
    turns = store._turns
    assert isinstance(turns, PostgresTurns) and len(turns._idle) > 1
    pids = [connection.info.backend_pid for connection in turns._idle]
    async with await psycopg.AsyncConnection.connect(ADMIN, autocommit=True) as admin:
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    loaded = await store.load_after("c", None)  # a read goes again on a new connection
    assert [e.get("text") for e in loaded.events][:1] == ["before"]
    await store.append("c", turn("after"))  # retried the careful way: stored once
    texts = [e.get("text") for e in await store.load("c") or [] if e["event"] == "user"]
    assert texts == ["before", "after"]
