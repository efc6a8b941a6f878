"""File locks order one conversation's turns across processes, and die with their holder."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parley.stores.factory import create_lock_store
from parley.stores.file_lock import FileLockStore

HOLDER = """
import asyncio, sys
from pathlib import Path
from parley.stores.file_lock import FileLockStore

async def main():
    store = FileLockStore(Path(sys.argv[1]))
    async with store.lock(sys.argv[2]):
        print("held", flush=True)
        await asyncio.sleep(float(sys.argv[3]))

asyncio.run(main())
"""


def hold(path: Path, sender: str, seconds: float) -> subprocess.Popen[str]:
    """Another process holding `sender`'s lock for `seconds` (returns once it holds it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), sender, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


async def test_a_conversation_locked_by_another_process_waits_others_do_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locks"
    store = FileLockStore(path)
    holder = hold(path, "alice", 0.6)
    try:
        started = time.monotonic()
        async with store.lock("bob"):  # another conversation: no wait
            assert time.monotonic() - started < 0.3
        async with store.lock("alice"):  # only once the other process let go
            assert time.monotonic() - started >= 0.5
    finally:
        holder.wait(10)
        await store.close()


async def test_a_killed_holder_releases_its_locks_at_once(tmp_path: Path) -> None:
    path = tmp_path / "locks"
    store = FileLockStore(path)
    holder = hold(path, "alice", 60)
    try:
        waiting = asyncio.create_task(_take(store, "alice"))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        holder.kill()  # kill -9: the kernel drops the dead process's locks
        await asyncio.wait_for(waiting, 5)
    finally:
        holder.kill()
        holder.wait(10)
        await store.close()


async def _take(store: FileLockStore, sender: str) -> None:
    async with store.lock(sender):
        pass


async def test_a_cancelled_waiter_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "locks"
    store = FileLockStore(path)
    holder = hold(path, "alice", 0.5)
    try:
        waiting = asyncio.create_task(_take(store, "alice"))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        holder.wait(10)
        await asyncio.wait_for(_take(store, "alice"), 2)
        other = hold(path, "alice", 0)  # and another process can take it too
        other.wait(10)
    finally:
        await store.close()


async def test_turns_within_one_process_keep_their_order(tmp_path: Path) -> None:
    store = FileLockStore(tmp_path / "locks")
    order: list[int] = []

    async def turn(index: int) -> None:
        async with store.lock("alice"):
            await asyncio.sleep(0.01)
            order.append(index)

    await asyncio.gather(*(turn(i) for i in range(10)))
    assert order == list(range(10))
    await store.close()


async def test_endpoints_select_the_file_lock_store(tmp_path: Path) -> None:
    store = await create_lock_store({"lock_store": {"type": "file"}}, tmp_path)
    assert isinstance(store, FileLockStore)
    assert store.path == tmp_path / ".parley" / "locks"
    assert oct((tmp_path / ".parley" / "locks").stat().st_mode & 0o777) == "0o600"
    await store.close()
