"""Every turn I/O of the SQL tracker store answers alike: the one the store picks for a SQLite
file or PostgreSQL, and the engine's, which serves other databases and PostgreSQL's retries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.stores import EventCipher, FencedError, SQLSettings, SQLTrackerStore
from parley.stores.base import StorePosition
from parley.stores.codec import StoredEvent, decode_event, encode_event
from parley.stores.sql import turn_io_for
from parley.stores.sql_lite import SQLiteTurns
from parley.stores.sql_postgres import PostgresTurns
from parley.stores.sql_turns import EngineTurns, TurnIO, WriteTransactions
from tests.stores.conftest import drop_schema, postgres_settings, unique_name

CIPHER = EventCipher(None)
KINDS = [
    "sqlite",
    "sqlite-engine",
    pytest.param("postgresql", marks=pytest.mark.integration),
    pytest.param("postgresql-engine", marks=pytest.mark.integration),
]


@pytest.fixture(params=KINDS)
async def turns(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TurnIO]:
    kind: str = request.param
    schema = unique_name("turns") if kind.startswith("postgresql") else None
    settings = postgres_settings(schema) if schema else SQLSettings()
    store = await SQLTrackerStore.open(settings, tmp_path)
    engine = store.engine
    writes = WriteTransactions(engine)
    chosen = turn_io = EngineTurns(engine, writes)
    if not kind.endswith("-engine"):
        chosen = turn_io_for(engine, schema, writes)
        assert isinstance(chosen, SQLiteTurns if kind == "sqlite" else PostgresTurns)
    yield chosen
    await chosen.close()
    await turn_io.close()
    await store.close()
    if schema:
        await drop_schema(schema)


def records(sender_id: str, *texts: str) -> list[StoredEvent]:
    return [
        encode_event(
            CIPHER,
            sender_id,
            {"event": "user", "timestamp": 10.0 + i, "text": text}
            | {"metadata": {"event_id": uuid.uuid4().hex}},
        )
        for i, text in enumerate(texts)
    ]


def texts(sender_id: str, rows: object) -> list[str | None]:
    return [
        decode_event(CIPHER, sender_id, key_id, body).get("text") if body is not None else None
        for _, _, key_id, body in rows  # type: ignore[attr-defined]
    ]


async def test_turns_are_numbered_in_order_and_read_back_after_a_position(turns: TurnIO) -> None:
    first = await turns.append("ann", records("ann", "hi", "there"), latest=11.0)
    second = await turns.append("ann", records("ann", "again"), latest=12.0)
    assert first is not None and second is not None
    assert (first.sequence, second.sequence) == (2, 3)
    assert first.generation == second.generation
    rows = await turns.rows_after("ann", 0)
    assert texts("ann", rows) == ["hi", "there", "again"]
    assert StorePosition(repr(float(rows[0][0])), int(rows[0][1])) == second
    assert texts("ann", await turns.rows_after("ann", 2)) == ["again"]
    assert texts("ann", await turns.rows_after("ann", 3)) == [None]  # counter, no events
    assert list(await turns.rows_after("nobody", 0)) == []


async def test_a_stale_fencing_token_stores_nothing(turns: TurnIO) -> None:
    await turns.append("bob", records("bob", "first"), latest=10.0, fence=5)
    with pytest.raises(FencedError):
        await turns.append("bob", records("bob", "late"), latest=11.0, fence=4)
    assert texts("bob", await turns.rows_after("bob", 0)) == ["first"]


async def test_a_retry_of_a_stored_turn_stores_it_once(turns: TurnIO) -> None:
    turn = records("cy", "only once")
    await turns.append("cy", turn, latest=10.0)
    assert await turns.append("cy", turn, latest=10.0, retry=True) is None
    assert texts("cy", await turns.rows_after("cy", 0)) == ["only once"]
