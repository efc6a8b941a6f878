"""Child processes for the cross-process store tests (run as `python tests/stores/workers.py`).

lock REDIS_PREFIX CONVERSATION COUNTER_KEY ROUNDS   increment a counter under the lock
hold REDIS_PREFIX CONVERSATION LEASE                take the lock, say "held", hang
hold-append ENDPOINTS_JSON ROOT REDIS_PREFIX CONVERSATION LEASE
                                                    take the lock, say "held", wait for a line
                                                    on stdin, append a turn with the lock's
                                                    token, say "appended" or "fenced"
append ENDPOINTS_JSON ROOT CONVERSATION             append 20-event turns forever
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from parley.stores import FencedError, RedisLockStore, RedisSettings, create_tracker_store


def _settings(prefix: str) -> RedisSettings:
    return RedisSettings.from_endpoint({"url": "127.0.0.1", "key_prefix": prefix}, "test")


async def lock_and_count(prefix: str, conversation: str, counter: str, rounds: int) -> None:
    store = await RedisLockStore.open(_settings(prefix))
    for _ in range(rounds):
        async with store.lock(conversation):
            value = int(await store.redis.get(counter) or 0)  # read, pause, write: racy unlocked
            await asyncio.sleep(0.002)
            await store.redis.set(counter, value + 1)
    await store.close()


async def hold(prefix: str, conversation: str, lease: float) -> None:
    store = await RedisLockStore.open(_settings(prefix), lease=lease)
    async with store.lock(conversation):
        print("held", flush=True)
        await asyncio.sleep(3600)


async def hold_and_append(
    endpoints: str, root: str, prefix: str, conversation: str, lease: float
) -> None:
    tracker_store = await create_tracker_store(json.loads(endpoints), Path(root))
    locks = await RedisLockStore.open(_settings(prefix), lease=lease)
    async with locks.lock(conversation) as fence:
        print("held", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        events = [{"event": "user", "timestamp": 1.0, "text": "late writer"}]
        try:
            await tracker_store.append(conversation, events, fence=fence)
            print("appended", flush=True)
        except FencedError:
            print("fenced", flush=True)
    await tracker_store.close()
    await locks.close()


async def append_forever(endpoints: str, root: str, conversation: str) -> None:
    store = await create_tracker_store(json.loads(endpoints), Path(root))
    turn = 0
    while True:
        events = [
            {"event": "user", "timestamp": 1.0, "text": "x" * 200, "turn": turn, "i": i}
            for i in range(20)
        ]
        await store.append(conversation, events)
        if turn == 3:
            print("appending", flush=True)
        turn += 1


async def append_turns(endpoints: str, root: str, conversation: str, writer: str, n: int) -> None:
    store = await create_tracker_store(json.loads(endpoints), Path(root))
    for turn in range(n):
        events = [
            {"event": "user", "timestamp": 1.0, "writer": writer, "turn": turn, "i": i}
            for i in range(5)
        ]
        await store.append(conversation, events)
    await store.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "lock":
        asyncio.run(lock_and_count(args[0], args[1], args[2], int(args[3])))
    elif command == "hold":
        asyncio.run(hold(args[0], args[1], float(args[2])))
    elif command == "hold-append":
        asyncio.run(hold_and_append(args[0], args[1], args[2], args[3], float(args[4])))
    elif command == "turns":
        asyncio.run(append_turns(args[0], args[1], args[2], args[3], int(args[4])))
    else:
        asyncio.run(append_forever(args[0], args[1], args[2]))
