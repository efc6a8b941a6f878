"""The studio's SQL on PostgreSQL: the index, every kind of filter, tags and reviews, the inbox
and the analytics counts (the same answers as on SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from parley.stores.sql import SQLTrackerStore
from parley.studio import index, queries
from parley.studio.analytics import report
from parley.studio.queries import ConversationFilter, list_conversations
from tests.stores.conftest import drop_schema, postgres_settings, unique_name
from tests.studio.conftest import seed

pytestmark = pytest.mark.integration


async def _ids(store: SQLTrackerStore, **where: object) -> set[str]:
    page = await list_conversations(store.engine, ConversationFilter.model_validate(where))
    return {row.sender_id for row in page.rows}


async def test_the_studio_queries_on_postgres(tmp_path: Path) -> None:
    schema = unique_name("studio")
    store = await SQLTrackerStore.open(postgres_settings(schema), tmp_path)
    try:
        await seed(store)
        assert await index.catch_up(store.engine, store.cipher) == 12  # 11 user/action, 1 slot
        assert await index.catch_up(store.engine, store.cipher) == 0  # look-back adds nothing twice
        assert await _ids(store, channel="socketio") == {"bravo"}
        assert await _ids(store, low_confidence=True) == {"bravo", "charlie"}
        assert await _ids(store, fallback=True, model="m2") == {"bravo"}
        assert await _ids(store, min_turns=2) == {"alpha", "delta"}
        assert await _ids(store, text="Fire") == {"alpha"}
        assert await _ids(store, active_from="2026-05-30") == {"charlie", "delta"}
        await queries.add_tag(store.engine, "delta", "polite", "ana")
        await queries.set_reviewed(store.engine, "delta", "ana", True)
        assert await _ids(store, tag="polite", review="reviewed") == {"delta"}
        inbox = await queries.inbox_candidates(store.engine, 0.6)
        assert {(row[0], row[3]) for row in inbox} == {("bravo", "goodbye"), ("charlie", "greet")}
        by_channel = await report(store.engine, "channel", None, None)
        assert [
            (b.key, b.conversations, b.handoffs, b.fallbacks, b.users, b.abandoned)
            for b in by_channel.buckets
        ] == [("rest", 3, 1, 0, 3, 0), ("socketio", 1, 0, 1, 1, 1)]
        by_day = await report(store.engine, "day", None, None)
        assert [(b.key, b.users) for b in by_day.buckets] == [
            ("2026-05-28", 1), ("2026-05-29", 1), ("2026-05-30", 1), ("2026-05-31", 1),
        ]  # fmt: skip
        assert by_day.top_intents[0] == ("thank", 3)
        await index.refresh_statistics(store.engine)  # as after a large catch-up
        await index.refresh_statistics(store.engine)  # again: the statistics object exists
        async with store.engine.connect() as connection:
            kinds = await connection.execute(
                text(
                    "SELECT stxkind FROM pg_statistic_ext WHERE stxname = 'parley_studio_facts_labels'"
                )
            )
            assert sorted(kinds.scalar_one()) == ["f", "m"]  # dependencies, most common values
        assert await _ids(store, channel="socketio") == {"bravo"}
    finally:
        await store.close()
        await drop_schema(schema)


async def test_unhandled_messages_and_the_change_set_on_postgres(tmp_path: Path) -> None:
    from parley.studio import changeset
    from parley.studio.unhandled import MessageKey, unhandled_messages
    from tests.studio.test_clusters import PAYPAL, check_seeded_clusters

    schema = unique_name("clusters")
    store = await SQLTrackerStore.open(postgres_settings(schema), tmp_path)
    try:
        await check_seeded_clusters(store)
        key = MessageKey("pay0", 1)
        await changeset.keep(store.engine, {key: []}, "ask_paypal", True, "ana")
        assert await changeset.new_intents(store.engine) == {"ask_paypal"}
        kept = await changeset.entries(store.engine, store.cipher)
        assert [(e.key, e.text) for e in kept] == [(key, PAYPAL[0])]
        left = await unhandled_messages(store.engine, store.cipher)
        assert key not in {m.key for m in left}
        assert await changeset.clear(store.engine, [key]) == 1
    finally:
        await store.close()
        await drop_schema(schema)
