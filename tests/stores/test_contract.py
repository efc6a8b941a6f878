"""The tracker store contract, run against every store type (real PostgreSQL and Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid

from parley.stores import ManagedTrackerStore


def user(text: str, timestamp: float | None = None) -> dict:
    return {
        "event": "user",
        "timestamp": timestamp or time.time(),
        "text": text,
        "parse_data": {"intent": {"name": "greet", "confidence": 0.97}, "entities": []},
        "metadata": {"event_id": uuid.uuid4().hex, "model_id": "model-1"},
    }


def bot(text: str, timestamp: float | None = None) -> dict:
    return {"event": "bot", "timestamp": timestamp or time.time(), "text": text, "data": {}}


def listen(timestamp: float | None = None) -> dict:
    return {"event": "action", "timestamp": timestamp or time.time(), "name": "action_listen"}


async def test_unknown_conversation_loads_as_none(tracker_store: ManagedTrackerStore) -> None:
    assert await tracker_store.load("nobody") is None
    assert await tracker_store.senders() == []


async def test_turns_are_loaded_back_in_order_with_ids_kept(
    tracker_store: ManagedTrackerStore,
) -> None:
    first = [user("hello 👋 Grüße"), bot("Hi!"), listen()]
    second = [user("bye"), bot("Bye."), listen()]
    await tracker_store.append("alice", first)
    await tracker_store.append("alice", second)
    assert await tracker_store.load("alice") == first + second
    loaded = await tracker_store.load("alice")
    assert loaded is not None
    assert loaded[0]["metadata"] == first[0]["metadata"]


async def test_conversations_are_kept_apart(tracker_store: ManagedTrackerStore) -> None:
    await tracker_store.append("alice", [user("a")])
    await tracker_store.append("bob", [user("b"), bot("B")])
    assert [e["text"] for e in await tracker_store.load("alice") or []] == ["a"]
    assert [e["text"] for e in await tracker_store.load("bob") or []] == ["b", "B"]
    assert sorted(await tracker_store.senders()) == ["alice", "bob"]


async def test_empty_turn_stores_nothing(tracker_store: ManagedTrackerStore) -> None:
    await tracker_store.append("alice", [])
    assert await tracker_store.load("alice") is None
    assert await tracker_store.senders() == []


async def test_delete_erases_one_conversation(tracker_store: ManagedTrackerStore) -> None:
    await tracker_store.append("alice", [user("secret")])
    await tracker_store.append("bob", [user("keep")])
    assert await tracker_store.delete("alice") is True
    assert await tracker_store.delete("alice") is False
    assert await tracker_store.load("alice") is None
    assert await tracker_store.senders() == ["bob"]
    await tracker_store.append("alice", [user("again")])
    assert [e["text"] for e in await tracker_store.load("alice") or []] == ["again"]


async def test_concurrent_turns_never_interleave_or_get_lost(
    tracker_store: ManagedTrackerStore,
) -> None:
    turns = 30

    async def turn(number: int) -> None:
        events = [
            {"event": "user", "timestamp": 1.0, "text": f"t{number}", "turn": number, "i": i}
            for i in range(4)
        ]
        await tracker_store.append("busy", events)

    await asyncio.gather(*(turn(n) for n in range(turns)))
    loaded = await tracker_store.load("busy") or []
    assert len(loaded) == turns * 4
    chunks = [loaded[i : i + 4] for i in range(0, len(loaded), 4)]
    assert all([e["i"] for e in chunk] == [0, 1, 2, 3] for chunk in chunks)
    assert all(len({e["turn"] for e in chunk}) == 1 for chunk in chunks)
    assert sorted(chunk[0]["turn"] for chunk in chunks) == list(range(turns))


async def test_purge_removes_only_inactive_conversations(
    tracker_store: ManagedTrackerStore,
) -> None:
    now = time.time()
    old = now - 100 * 86400
    await tracker_store.append("old", [user("long ago", old), bot("yes", old)])
    await tracker_store.append("revived", [user("long ago", old)])
    await tracker_store.append("revived", [user("today", now)])
    await tracker_store.append("new", [user("today", now)])
    assert await tracker_store.purge(now - 90 * 86400) == 1
    assert sorted(await tracker_store.senders()) == ["new", "revived"]
    assert await tracker_store.load("old") is None
    assert len(await tracker_store.load("revived") or []) == 2


async def test_stream_events_filters_by_sender_and_time(
    tracker_store: ManagedTrackerStore,
) -> None:
    await tracker_store.append("alice", [user("a1", 100.0), bot("a2", 200.0)])
    await tracker_store.append("bob", [user("b1", 150.0), bot("b2", 300.0)])
    everything = [(s, e["text"]) async for s, e in tracker_store.stream_events()]
    assert everything == [("alice", "a1"), ("alice", "a2"), ("bob", "b1"), ("bob", "b2")]
    window = [(s, e["text"]) async for s, e in tracker_store.stream_events(None, 150.0, 300.0)]
    assert window == [("alice", "a2"), ("bob", "b1")]
    only_bob = [e["text"] async for _, e in tracker_store.stream_events(["bob"])]
    assert only_bob == ["b1", "b2"]


async def test_long_conversation_loads_completely(tracker_store: ManagedTrackerStore) -> None:
    for number in range(200):
        await tracker_store.append("long", [user(f"u{number}"), bot(f"b{number}"), listen()])
    loaded = await tracker_store.load("long") or []
    assert len(loaded) == 600
    assert loaded[-3]["text"] == "u199"
