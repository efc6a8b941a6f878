"""Child processes for the cross-process store tests (run as `python tests/stores/workers.py`).

lock REDIS_PREFIX CONVERSATION COUNTER_KEY ROUNDS   increment a counter under the lock
hold REDIS_PREFIX CONVERSATION LIFETIME             take the lock, say "held", hang
append ENDPOINTS_JSON ROOT CONVERSATION             append 20-event turns forever
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from parley.stores import RedisLockStore, RedisSettings, create_tracker_store


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


async def hold(prefix: str, conversation: str, lifetime: float) -> None:
    store = await RedisLockStore.open(_settings(prefix), lock_lifetime=lifetime)
    async with store.lock(conversation):
        print("held", flush=True)
        await asyncio.sleep(3600)


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
    elif command == "turns":
        asyncio.run(append_turns(args[0], args[1], args[2], args[3], int(args[4])))
    else:
        asyncio.run(append_forever(args[0], args[1], args[2]))
