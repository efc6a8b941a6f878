"""Fencing tokens on every tracker store: a turn whose lock was taken over cannot append."""

from __future__ import annotations

import asyncio

import pytest

from parley.stores import FencedError, ManagedTrackerStore


def turn(text: str, n: int = 3) -> list[dict[str, object]]:
    return [{"event": "user", "timestamp": 1.0 + i, "text": f"{text} {i}"} for i in range(n)]


async def test_an_older_token_is_refused_and_stores_nothing(
    tracker_store: ManagedTrackerStore,
) -> None:
    await tracker_store.append("c", turn("first holder"), fence=1_000_001)
    await tracker_store.append("c", turn("second holder"), fence=1_000_002)
    with pytest.raises(FencedError, match=r"'c'.*1000001"):
        await tracker_store.append("c", turn("first holder, late"), fence=1_000_001)
    stored = await tracker_store.load("c") or []
    assert [e["text"] for e in stored] == [
        *[f"first holder {i}" for i in range(3)],
        *[f"second holder {i}" for i in range(3)],
    ]
    # the same token again is the same holder's next append: accepted
    await tracker_store.append("c", turn("second holder again", 1), fence=1_000_002)
    assert len(await tracker_store.load("c") or []) == 7


async def test_a_late_writer_is_refused_even_on_a_new_conversation_row(
    tracker_store: ManagedTrackerStore,
) -> None:
    """The first append of a conversation records its token too: an older one comes after."""
    await tracker_store.append("new", turn("newer holder", 1), fence=1_785_000_000_000_002)
    with pytest.raises(FencedError):
        await tracker_store.append("new", turn("older holder", 1), fence=1_785_000_000_000_001)
    assert len(await tracker_store.load("new") or []) == 1


async def test_appends_without_a_token_are_not_checked_and_keep_it(
    tracker_store: ManagedTrackerStore,
) -> None:
    await tracker_store.append("c", turn("locked", 1), fence=50)
    await tracker_store.append("c", turn("no lock store token", 1))
    with pytest.raises(FencedError):
        await tracker_store.append("c", turn("stale", 1), fence=49)
    assert len(await tracker_store.load("c") or []) == 2


async def test_a_refused_turn_does_not_fail_turns_committed_with_it(
    tracker_store: ManagedTrackerStore,
) -> None:
    """SQLite commits turns arriving together in one transaction: only the fenced one fails."""
    await tracker_store.append("fenced", turn("holder", 1), fence=10)
    results = await asyncio.gather(
        tracker_store.append("fenced", turn("late", 1), fence=9),
        *(tracker_store.append(f"other-{i}", turn("fine", 2), fence=5) for i in range(5)),
        return_exceptions=True,
    )
    assert isinstance(results[0], FencedError)
    assert not any(isinstance(r, BaseException) for r in results[1:])
    for i in range(5):
        assert len(await tracker_store.load(f"other-{i}") or []) == 2
    assert len(await tracker_store.load("fenced") or []) == 1
