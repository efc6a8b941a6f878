"""`load_after`: incremental reads with a position that notices other writers and deletions."""

from __future__ import annotations

from parley.stores import ManagedTrackerStore
from tests.stores.test_contract import bot, listen, user


async def test_position_of_an_append_reads_only_later_events(
    tracker_store: ManagedTrackerStore,
) -> None:
    first = [user("hi"), bot("Hi!"), listen()]
    second = [user("bye"), bot("Bye.")]
    position = await tracker_store.append("alice", first)
    assert position is not None and position.sequence == 3
    assert await tracker_store.append("alice", []) is None

    nothing_new = await tracker_store.load_after("alice", position)
    assert (nothing_new.events, nothing_new.position, nothing_new.complete) == ([], position, False)

    after = await tracker_store.append("alice", second)  # e.g. another replica's turn
    loaded = await tracker_store.load_after("alice", position)
    assert loaded.events == second and not loaded.complete
    assert loaded.position == after and after is not None and after.sequence == 5


async def test_without_position_everything_is_loaded(tracker_store: ManagedTrackerStore) -> None:
    empty = await tracker_store.load_after("alice", None)
    assert (empty.events, empty.position, empty.complete) == ([], None, True)
    turn = [user("hi"), bot("Hi!")]
    position = await tracker_store.append("alice", turn)
    loaded = await tracker_store.load_after("alice", None)
    assert (loaded.events, loaded.position, loaded.complete) == (turn, position, True)


async def test_a_deleted_and_restarted_conversation_is_loaded_whole(
    tracker_store: ManagedTrackerStore,
) -> None:
    old = await tracker_store.append("alice", [user("old")])
    assert old is not None
    await tracker_store.delete("alice")
    gone = await tracker_store.load_after("alice", old)
    assert (gone.events, gone.position, gone.complete) == ([], None, True)

    # the new conversation is longer than the old position: a bare sequence would skip events
    again = [user("new"), bot("New!"), listen()]
    position = await tracker_store.append("alice", again)
    assert position is not None and position.generation != old.generation
    loaded = await tracker_store.load_after("alice", old)
    assert (loaded.events, loaded.position, loaded.complete) == (again, position, True)


async def test_a_purged_conversation_is_not_continued(tracker_store: ManagedTrackerStore) -> None:
    old = await tracker_store.append("alice", [user("old", timestamp=1000.0)])
    assert old is not None
    assert await tracker_store.purge(before=2000.0) == 1
    again = [user("new"), bot("New!")]
    await tracker_store.append("alice", again)
    loaded = await tracker_store.load_after("alice", old)
    assert loaded.events == again and loaded.complete
