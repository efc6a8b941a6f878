"""The Redis lock store against a real Redis: fairness, exclusion across processes, lifetimes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.stores import LockError, RedisLockStore
from tests.stores.conftest import drop_redis_keys, redis_settings, unique_name

pytestmark = pytest.mark.integration
WORKERS = Path(__file__).with_name("workers.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = unique_name("lock")
    yield name
    await drop_redis_keys(name)


async def test_waiters_are_served_in_arrival_order(prefix: str) -> None:
    store = await RedisLockStore.open(redis_settings(prefix))
    order: list[int] = []
    release = asyncio.Event()

    async def first() -> None:
        async with store.lock("c"):
            order.append(0)
            await release.wait()

    async def waiter(number: int) -> None:
        async with store.lock("c"):
            order.append(number)

    tasks = [asyncio.create_task(first())]
    await asyncio.sleep(0.05)
    for number in range(1, 6):
        tasks.append(asyncio.create_task(waiter(number)))
        await asyncio.sleep(0.02)  # each takes its ticket before the next arrives
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4, 5]
    await store.close()


async def test_other_conversations_are_not_blocked(prefix: str) -> None:
    store = await RedisLockStore.open(redis_settings(prefix), wait_timeout=1.0)
    async with store.lock("a"), store.lock("b"):
        pass
    await store.close()


async def test_processes_exclude_each_other(prefix: str) -> None:
    counter = f"{prefix}:counter"
    rounds = 25
    children = [
        subprocess.Popen(
            [sys.executable, str(WORKERS), "lock", prefix, "shared", counter, str(rounds)],
            cwd=REPO,
        )
        for _ in range(3)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    redis = redis_settings(prefix).connect()
    assert int(await redis.get(counter) or 0) == 3 * rounds  # no increment lost to a race
    await redis.aclose()


async def test_crashed_holder_frees_the_conversation_after_its_lifetime(prefix: str) -> None:
    child = subprocess.Popen(
        [sys.executable, str(WORKERS), "hold", prefix, "c", "1.5"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    child.kill()  # SIGKILL: no release
    child.wait()
    store = await RedisLockStore.open(redis_settings(prefix), wait_timeout=10)
    started = time.monotonic()
    async with store.lock("c"):
        waited = time.monotonic() - started
    assert 0.3 < waited < 5
    await store.close()


async def test_waiting_too_long_raises_lock_error(prefix: str) -> None:
    holder = await RedisLockStore.open(redis_settings(prefix))
    impatient = await RedisLockStore.open(redis_settings(prefix), wait_timeout=0.2)
    async with holder.lock("c"):
        with pytest.raises(LockError, match="could not lock conversation 'c'"):
            async with impatient.lock("c"):
                pass
    async with impatient.lock("c"):  # the timed-out ticket does not block later turns
        pass
    await holder.close()
    await impatient.close()


async def test_a_lost_ticket_counter_never_lets_a_turn_jump_the_queue(prefix: str) -> None:
    store = await RedisLockStore.open(redis_settings(prefix))
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with store.lock("c"):
            order.append("holder")
            await release.wait()

    async def latecomer() -> None:
        async with store.lock("c"):
            order.append("latecomer")

    first = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    await store.redis.delete(store._keys("c")[0])  # the counter key expired or was evicted
    second = asyncio.create_task(latecomer())
    await asyncio.sleep(0.2)
    assert order == ["holder"]  # still excluded
    release.set()
    await asyncio.gather(first, second)
    assert order == ["holder", "latecomer"]
    await store.close()
