"""The Agent's tracker cache stays equal to a rebuild from the store, whoever wrote to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.agent import Agent
from parley.dialogue.events import UserUttered
from parley.dialogue.part import DialoguePart
from parley.project import load_project
from parley.stores import InMemoryLockStore, SQLSettings, SQLTrackerStore
from parley.tracker_cache import TrackerCache
from parley.training import train_project
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def moodbot_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    return train_project(load_project(EXAMPLES / "moodbot"), out, parts=[DialoguePart()]).model


@pytest.fixture
async def replicas(moodbot_model: Path, tmp_path: Path) -> AsyncIterator[tuple[Agent, Agent]]:
    """Two Agents on one SQLite file and one lock store, as two replicas of a deployment."""
    locks = InMemoryLockStore()
    stores = [await SQLTrackerStore.open(SQLSettings(), tmp_path) for _ in range(2)]
    yield (
        Agent.load(moodbot_model, tracker_store=stores[0], lock_store=locks),
        Agent.load(moodbot_model, tracker_store=stores[1], lock_store=locks),
    )
    for store in stores:
        await store.close()


async def assert_cache_is_current(agent: Agent, sender_id: str) -> None:
    cached = agent.trackers.take(sender_id)
    assert cached is not None, "the conversation's tracker should be cached after a turn"
    stored = await agent.tracker_store.load(sender_id) or []
    assert [event.as_dict() for event in cached.tracker.events] == stored
    rebuilt = await agent.get_tracker(sender_id)
    assert cached.tracker.slots == rebuilt.slots
    assert cached.tracker.current_state(include_events=False) == rebuilt.current_state(
        include_events=False
    )
    assert cached.position.sequence == len(stored)
    agent.trackers.put(sender_id, cached.tracker, cached.position)


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


async def test_a_turn_sees_what_another_replica_appended(replicas: tuple[Agent, Agent]) -> None:
    a, b = replicas
    await a.handle_message("ann", "/greet")
    assert "ann" in a.trackers
    await b.handle_message("ann", "/mood_unhappy")  # a's cached tracker does not know this
    # only after b's cheer-up question does "yes" mean it helped
    assert texts(await a.handle_message("ann", "/affirm")) == ["Great, carry on!"]
    await assert_cache_is_current(a, "ann")


async def test_a_conversation_deleted_and_restarted_elsewhere_is_rebuilt(
    replicas: tuple[Agent, Agent],
) -> None:
    a, b = replicas
    await a.handle_message("ann", "/greet")
    await b.handle_message("ann", "/mood_great")
    cached_length = len((await a.get_tracker("ann")).events)
    # b replaces the conversation by a longer one: a's position points inside it
    replacement = (await b.get_tracker("ann")).as_dicts()
    replacement = replacement[:3] + replacement  # a different first event order
    await b.replace_events("ann", replacement)
    assert len(replacement) > cached_length
    await a.handle_message("ann", "/greet")
    await assert_cache_is_current(a, "ann")
    assert (await a.get_tracker("ann")).as_dicts()[: len(replacement)] == replacement


async def test_deleted_conversation_starts_fresh(replicas: tuple[Agent, Agent]) -> None:
    a, b = replicas
    await a.handle_message("ann", "/greet")
    await a.handle_message("ann", "/mood_unhappy")
    assert await b.tracker_store.delete("ann")
    await a.handle_message("ann", "/greet")
    stored = await a.tracker_store.load("ann") or []
    assert [e["text"] for e in stored if e["event"] == "user"] == ["/greet"]
    await assert_cache_is_current(a, "ann")


async def test_replace_and_append_through_the_same_agent(replicas: tuple[Agent, Agent]) -> None:
    a, _ = replicas
    await a.handle_message("ann", "/greet")
    first_turn = (await a.get_tracker("ann")).as_dicts()
    await a.handle_message("ann", "/mood_unhappy")
    await a.replace_events("ann", first_turn)
    await assert_cache_is_current(a, "ann")
    await a.append_events("ann", [{"event": "action", "name": "action_listen"}])
    await a.handle_message("ann", "/mood_great")
    await assert_cache_is_current(a, "ann")


async def test_a_failed_turn_leaves_no_cached_tracker(
    replicas: tuple[Agent, Agent], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = replicas
    await a.handle_message("ann", "/greet")

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(a.tracker_store, "append", broken)
    with pytest.raises(RuntimeError):
        await a.handle_message("ann", "/mood_great")
    assert "ann" not in a.trackers  # the tracker holds events that were never stored
    monkeypatch.undo()
    await a.handle_message("ann", "/mood_great")
    await assert_cache_is_current(a, "ann")


def test_the_cache_keeps_only_the_most_recently_used_trackers() -> None:
    from parley.dialogue.tracker import Tracker
    from parley.stores.base import StorePosition

    cache = TrackerCache(size=2)
    for name in ["a", "b", "c"]:
        cache.put(name, Tracker(name), StorePosition("1", 1))
    assert "a" not in cache and len(cache) == 2
    assert cache.take("b") is not None and "b" not in cache


def test_a_long_evicted_conversation_is_freed_a_slice_per_put() -> None:
    import weakref

    from parley.dialogue.events import ActionExecuted
    from parley.dialogue.tracker import Tracker
    from parley.stores.base import StorePosition
    from parley.tracker_cache import FREED_PER_PUT

    events = [ActionExecuted(name=f"action_{i}") for i in range(FREED_PER_PUT * 3)]
    watched = weakref.ref(events[0])
    long_one = Tracker("long", events=events)
    del events
    cache = TrackerCache(size=1)
    cache.put("long", long_one, StorePosition("1", 1))
    cache.put("next", Tracker("next"), StorePosition("1", 1))  # evicts "long"
    assert "long" not in cache and long_one.events == [] and long_one.latest_action == {}
    assert cache.events_to_free == FREED_PER_PUT * 2
    cache.put("other", Tracker("other"), StorePosition("1", 1))
    assert cache.events_to_free == FREED_PER_PUT and watched() is not None
    cache.put("again", Tracker("again"), StorePosition("1", 1))
    assert cache.events_to_free == 0 and watched() is None


def test_the_cache_keeps_at_most_max_events_of_the_least_recent_trackers_first() -> None:
    from parley.dialogue.events import ActionExecuted
    from parley.dialogue.tracker import Tracker
    from parley.stores.base import StorePosition

    def tracker(name: str, events: int) -> Tracker:
        return Tracker(name, events=[ActionExecuted(name="a") for _ in range(events)])

    cache = TrackerCache(size=10, max_events=100)
    for name in ["a", "b", "c"]:
        cache.put(name, tracker(name, 40), StorePosition("1", 40))
    assert "a" not in cache and "b" in cache and "c" in cache and cache.events_held == 80
    taken = cache.take("b")
    assert taken is not None and cache.events_held == 40
    taken.tracker.update_all([ActionExecuted(name="a") for _ in range(30)])
    cache.put("b", taken.tracker, StorePosition("1", 70))  # grew: "c" goes
    assert "c" not in cache and "b" in cache and cache.events_held == 70
    cache.put("huge", tracker("huge", 101), StorePosition("1", 101))  # alone too long
    assert "huge" not in cache and "b" in cache and cache.events_held == 70


async def test_a_conversation_evicted_for_its_size_answers_as_if_it_stayed(
    moodbot_model: Path, tmp_path: Path
) -> None:
    """One agent whose cache holds at most 12 events, one whose cache keeps everything: the
    long conversation leaves the first one's cache, is rebuilt from the store at each turn,
    and every turn's answer and prediction is the same as with the tracker kept."""
    folders = [tmp_path / "small", tmp_path / "big"]
    for folder in folders:
        folder.mkdir()
    stores = [await SQLTrackerStore.open(SQLSettings(), folder) for folder in folders]
    small = Agent.load(moodbot_model, tracker_store=stores[0])
    small.trackers.max_events = 12
    big = Agent.load(moodbot_model, tracker_store=stores[1])
    script = ["/greet", "/mood_unhappy", "/deny", "/bot_challenge", "/mood_great", "/goodbye"]
    try:
        for turn, text in enumerate(script * 3):
            assert texts(await small.handle_message("ann", text)) == texts(
                await big.handle_message("ann", text)
            ), f"turn {turn}: {text}"
            assert small.trackers.events_held <= 12
            predicted = [await agent.predict_next("ann") for agent in (small, big)]
            assert predicted[0]["scores"] == predicted[1]["scores"]
            assert predicted[0]["policy"] == predicted[1]["policy"]
        assert "ann" not in small.trackers and "ann" in big.trackers
        await small.handle_message("bob", "/greet")  # a short one is still kept
        assert "bob" in small.trackers
        await assert_cache_is_current(big, "ann")
        await assert_cache_is_current(small, "bob")
    finally:
        for store in stores:
            await store.close()


async def test_a_long_cached_conversation_keeps_its_older_messages_packed(
    replicas: tuple[Agent, Agent],
) -> None:
    a, _ = replicas

    def packed() -> list[bool]:
        cached = a.trackers.take("ann")
        assert cached is not None
        a.trackers.put("ann", cached.tracker, cached.position)
        return [e.packed for e in cached.tracker.events if isinstance(e, UserUttered)]

    for text in ["/greet", "/mood_unhappy"]:
        await a.handle_message("ann", text)
    assert packed() == [False, False]  # short: left as it is
    a.trackers.pack_from = 0  # as if it were long
    await a.handle_message("ann", "/affirm")
    assert packed() == [True, True, False]
    await assert_cache_is_current(a, "ann")  # packed or not: the same events as stored
