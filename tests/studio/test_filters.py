"""Slot, entity and abandonment filters of the conversation list, on SQLite and PostgreSQL, on a
plain and an encrypted store: what a reviewer asks for is what they get, and an encrypted store's
index holds no value a user wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parley.server import ParleyServer
from parley.stores.crypto import EncryptionKey, EventCipher
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.stores.sql_schema import studio_facts
from parley.studio import index
from parley.studio.queries import ConversationFilter, list_conversations
from parley.studio.values import ValueKeeper
from tests.access.conftest import login
from tests.stores.conftest import drop_schema, postgres_settings, unique_name
from tests.studio.conftest import DAY, T0, action, bot, seed, slot, user
from tests.studio.test_pages import ids

LOOP = {"event": "active_loop", "timestamp": T0 + 5 * DAY + 2, "name": "booking_form"}


async def seed_values(store: SQLTrackerStore) -> None:
    """On top of `seed` (alpha: entity device=printer and slot device=printer): slots and
    entities with other values, a form left open and a fallback resolved later."""
    await store.append("echo", [
        user("book for Anna Smith", "book", 0.9, T0 + 5 * DAY,
             entities=[{"entity": "person", "value": "Anna Smith", "start": 9, "end": 19}]),
        action("booking_form", T0 + 5 * DAY + 1),
        LOOP,
        slot("person", "Anna Smith", T0 + 5 * DAY + 2),
        slot("party_size", 4, T0 + 5 * DAY + 2),
        bot("For when?", T0 + 5 * DAY + 3),
    ])  # fmt: skip
    await store.append("foxtrot", [
        user("asdf", "nlu_fallback", 0.2, T0 + 6 * DAY),
        action("action_default_fallback", T0 + 6 * DAY + 1),
        user("my laptop is broken", "report_problem", 0.9, T0 + 6 * DAY + 5,
             entities=[{"entity": "device", "value": "Laptop", "start": 3, "end": 9}]),
        slot("device", "laptop", T0 + 6 * DAY + 6),
        slot("person", None, T0 + 6 * DAY + 6),  # a slot reset is not "set"
        action("utter_ticket_opened", T0 + 6 * DAY + 7),
    ])  # fmt: skip


# (filter, conversations): seed's bravo ends on a fallback, echo inside a form: both abandoned.
CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"slot": "device"}, {"alpha", "foxtrot"}),
    ({"slot": "device", "slot_value": "printer"}, {"alpha"}),
    ({"slot": "device", "slot_value": " LAPTOP "}, {"foxtrot"}),  # case and spaces are ignored
    ({"slot": "party_size", "slot_value": "4"}, {"echo"}),  # a number, as typed
    ({"slot": "person"}, {"echo"}),  # foxtrot only reset it
    ({"slot": "person", "slot_value": "anna smith"}, {"echo"}),
    ({"slot": "person", "slot_value": "anna"}, set()),  # the whole value, not a part
    ({"entity": "device"}, {"alpha", "foxtrot"}),
    ({"entity": "device", "entity_value": "laptop"}, {"foxtrot"}),
    ({"entity": "person", "entity_value": "Anna Smith"}, {"echo"}),
    ({"entity": "person", "slot": "device"}, set()),
    ({"entity": "device", "intent": "report_problem"}, {"alpha", "foxtrot"}),
    ({"abandoned": True}, {"bravo", "echo"}),
    ({"abandoned": True, "channel": "socketio"}, {"bravo"}),
]


async def _ids(store: SQLTrackerStore, where: dict[str, Any]) -> set[str]:
    await index.catch_up(store.engine, store.cipher)
    page = await list_conversations(
        store.engine, ConversationFilter.model_validate(where), ValueKeeper(store.cipher)
    )
    return {row.sender_id for row in page.rows}


@pytest.fixture
async def sealed(tmp_path: Path) -> AsyncIterator[SQLTrackerStore]:
    store = await SQLTrackerStore.open(
        SQLSettings(db="sealed.db"), tmp_path, EventCipher(EncryptionKey.generate())
    )
    await seed(store)
    await seed_values(store)
    yield store
    await store.close()


@pytest.mark.parametrize(("where", "expected"), CASES)
async def test_slot_entity_and_abandonment_filters_over_http(
    server: ParleyServer, store: SQLTrackerStore, where: dict[str, Any], expected: set[str]
) -> None:
    await seed_values(store)
    query = "&".join(f"{k}={'true' if v is True else v}" for k, v in where.items())
    async with await login(server, "analyst") as client:
        assert await ids(client, query) == expected


async def test_the_list_offers_the_slot_and_entity_names(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await seed_values(store)
    async with await login(server, "annotator") as client:
        html = (await client.get("/studio/conversations")).text
    slots = html.split('id="slot-names"')[1].split("</datalist>")[0]
    assert slots.count("<option>") == 3 and "<option>party_size</option>" in slots
    assert "<option>person</option>" in html.split('id="entity-names"')[1]


async def test_a_value_without_its_name_is_refused(server: ParleyServer) -> None:
    async with await login(server, "analyst") as client:
        response = await client.get("/studio/conversations?slot_value=gold")
    assert response.status_code == 400
    assert "slot_value needs slot" in response.text


@pytest.mark.parametrize(("where", "expected"), CASES)
async def test_an_encrypted_store_filters_values_it_keeps_only_as_keyed_hashes(
    sealed: SQLTrackerStore, where: dict[str, Any], expected: set[str]
) -> None:
    assert await _ids(sealed, where) == expected


async def test_an_encrypted_stores_index_holds_no_slot_or_entity_value(
    sealed: SQLTrackerStore,
) -> None:
    await index.catch_up(sealed.engine, sealed.cipher)
    f = studio_facts.c
    async with sealed.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(f.kind, f.name, f.value).where(f.kind.in_(("slot", "entity")))
            )
        ).all()
    assert {(kind, name) for kind, name, _ in rows} == {
        ("slot", "device"), ("slot", "person"), ("slot", "party_size"),
        ("entity", "device"), ("entity", "person"),
    }  # fmt: skip
    assert all(value.startswith("h:") and len(value) == 34 for _, _, value in rows)
    values = " ".join(value for _, _, value in rows).lower()
    assert not any(word in values for word in ("printer", "laptop", "anna", "smith"))


async def test_values_hashed_under_a_previous_key_are_still_found(tmp_path: Path) -> None:
    old, new = EncryptionKey.generate(), EncryptionKey.generate()
    store = await SQLTrackerStore.open(SQLSettings(db="a.db"), tmp_path, EventCipher(old))
    await seed(store)
    await index.catch_up(store.engine, store.cipher)
    await store.close()
    store = await SQLTrackerStore.open(SQLSettings(db="a.db"), tmp_path, EventCipher(new, [old]))
    try:
        await store.append("zulu", [slot("device", "printer", T0 + 9 * DAY)])
        assert await _ids(store, {"slot": "device", "slot_value": "printer"}) == {"alpha", "zulu"}
    finally:
        await store.close()


async def test_the_abandonment_filter_waits_until_the_user_has_gone(
    store: SQLTrackerStore,
) -> None:
    import time

    await store.append("hotel", [
        user("qwerty", "nlu_fallback", 0.1, time.time() - 60),
        action("action_default_fallback", time.time() - 59),
    ])  # fmt: skip
    await index.catch_up(store.engine, store.cipher)
    where = ConversationFilter(abandoned=True)
    now = await list_conversations(store.engine, where)
    assert {row.sender_id for row in now.rows} == {"bravo"}  # hotel may still answer


@pytest.mark.integration
async def test_slot_entity_and_abandonment_filters_on_postgres(tmp_path: Path) -> None:
    schema = unique_name("filters")
    store = await SQLTrackerStore.open(
        postgres_settings(schema), tmp_path, EventCipher(EncryptionKey.generate())
    )
    try:
        await seed(store)
        await seed_values(store)
        wrong = {
            str(where): found
            for where, expected in CASES
            if (found := await _ids(store, where)) != expected
        }
        assert wrong == {}
    finally:
        await store.close()
        await drop_schema(schema)


def test_a_filter_has_one_query_string() -> None:
    where = ConversationFilter.model_validate(
        {"intent": "greet", "threshold": "0.5", "page": "3", "slot": "device", "handoff": "true"}
    )
    assert where.query_string() == "handoff=true&intent=greet&slot=device"
    low = ConversationFilter(low_confidence=True, threshold=0.4, active_from="2026-05-01")
    assert low.query_string() == "active_from=2026-05-01&low_confidence=true&threshold=0.4"
