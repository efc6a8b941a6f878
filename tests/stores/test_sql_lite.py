"""The SQLite turn path: inline while the file is free, never stalling the event loop while
another connection holds the write lock, and WAL checkpoints off the turn path."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from parley.stores import (
    EncryptionKey,
    EventCipher,
    SQLSettings,
    SQLTrackerStore,
    StoreError,
    sql_lite,
)
from parley.stores.sql_lite import CHECKPOINT_EVERY, SQLiteTurns
from tests.stores.test_contract import bot, listen, user


async def _open(tmp_path: Path) -> SQLTrackerStore:
    return await SQLTrackerStore.open(
        SQLSettings(), tmp_path, EventCipher(EncryptionKey.generate())
    )


def _database(tmp_path: Path) -> Path:
    [path] = [p for p in tmp_path.iterdir() if p.suffix == ".db"]
    return path


async def test_a_held_write_lock_delays_the_turn_but_not_the_event_loop(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        await store.append("alice", [user("hi"), bot("Hello"), listen()])
        other = sqlite3.connect(_database(tmp_path), isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another worker or replica is writing
        append = asyncio.create_task(store.append("alice", [user("still there?"), listen()]))
        ticks = 0
        for _ in range(20):  # the loop keeps serving while the turn waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20
        assert not append.done()
        await asyncio.to_thread(other.execute, "COMMIT")
        position = await asyncio.wait_for(append, 10)
        assert position is not None and position.sequence == 5
        events = await store.load("alice")
        assert [e.get("text") for e in events or [] if e["event"] == "user"] == [
            "hi",
            "still there?",
        ]
        other.close()
    finally:
        await store.close()


async def test_reads_and_writes_run_inline_when_the_file_is_free(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        threads: set[str] = set()
        real_connect = sqlite3.connect

        def recording_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
            threads.add(threading.current_thread().name)
            return real_connect(*args, **kwargs)  # type: ignore[arg-type]

        sqlite3.connect = recording_connect  # type: ignore[assignment]
        try:
            await store.append("bob", [user("hi"), listen()])
            assert await store.load("bob")
        finally:
            sqlite3.connect = real_connect
        assert threads == {threading.main_thread().name}
    finally:
        await store.close()


async def test_the_write_ahead_log_is_checkpointed_as_turns_go_by(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        database = _database(tmp_path)
        await store.append("first", [user("hi"), listen()])
        empty = database.stat().st_size  # the schema only: new pages go to the log
        for index in range(3 * CHECKPOINT_EVERY):
            await store.append(f"user-{index % 20}", [user(f"hi {index}"), bot("ok"), listen()])
        deadline = asyncio.get_running_loop().time() + 20
        # Checkpoints (on the store's thread) copy the log's pages into the database file;
        # without them it would keep its first size and the log would hold every turn.
        while database.stat().st_size < 4 * empty:
            assert asyncio.get_running_loop().time() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.05)
        assert len(await store.load("user-7") or []) == 3 * len(range(7, 3 * CHECKPOINT_EVERY, 20))
    finally:
        await store.close()


async def test_turns_arriving_together_are_committed_together(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        await store.append("warm-up", [user("hi"), listen()])
        assert isinstance(store._turns, SQLiteTurns)
        commits: list[str] = []
        store._turns._inline_db().set_trace_callback(
            lambda statement: commits.append(statement) if statement == "COMMIT" else None
        )
        positions = await asyncio.gather(
            *(store.append(f"user-{i}", [user(f"hi {i}"), bot("ok"), listen()]) for i in range(40))
        )
        assert len(commits) < 10  # one WAL write for many turns (40 one by one before)
        assert [p.sequence for p in positions if p is not None] == [3] * 40
        for i in (0, 17, 39):
            events = await store.load(f"user-{i}") or []
            assert [e.get("text") for e in events] == [f"hi {i}", "ok", None]
    finally:
        await store.close()


async def test_a_turn_the_database_refuses_fails_alone(tmp_path: Path) -> None:
    """A failed group transaction stored nothing; its turns are written again one by one, so
    the others in it are stored and only the refused one reports an error."""
    store = await _open(tmp_path)
    try:
        refuse = sqlite3.connect(_database(tmp_path), isolation_level=None)
        refuse.execute(
            "CREATE TRIGGER refuse_mallory BEFORE INSERT ON parley_events "
            "WHEN NEW.sender_id = 'mallory' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        refuse.close()
        senders = ["alice", "mallory", "bob", "carol"]
        results = await asyncio.gather(
            *(store.append(s, [user("hi"), listen()]) for s in senders), return_exceptions=True
        )
        assert [isinstance(r, StoreError) for r in results] == [False, True, False, False]
        assert "refused" in str(results[1])
        for sender in ("alice", "bob", "carol"):
            assert len(await store.load(sender) or []) == 2
        assert await store.load("mallory") is None
    finally:
        await store.close()


async def test_turns_locked_out_for_the_whole_busy_timeout_fail_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group that could not get the write lock within the busy timeout is not written again
    turn by turn (each would wait the whole timeout once more): all its turns fail at once."""
    store = await _open(tmp_path)
    other = sqlite3.connect(_database(tmp_path), isolation_level=None, check_same_thread=False)
    try:
        assert isinstance(store._turns, SQLiteTurns)
        monkeypatch.setattr(sql_lite, "BUSY_TIMEOUT_MS", 400)
        other.execute("BEGIN IMMEDIATE")  # held past the timeout
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(
            *(store._turns.append(f"user-{i}", [], 1.0) for i in range(3)),
            return_exceptions=True,
        )
        waited = asyncio.get_running_loop().time() - started
        assert all(isinstance(r, sqlite3.OperationalError) for r in results)
        assert waited < 1.0  # one timeout (0.4 s), not one more per turn (1.6 s)
    finally:
        other.execute("ROLLBACK")
        other.close()
        await store.close()
