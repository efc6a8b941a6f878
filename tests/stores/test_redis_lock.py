"""The Redis lock store against a real Redis: fairness, exclusion across processes, leases
renewed by a heartbeat, lifetimes, fencing tokens."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.stores import LockError, RedisLockStore, create_tracker_store
from tests.stores.conftest import (
    POSTGRES,
    REDIS,
    drop_redis_keys,
    drop_schema,
    redis_settings,
    unique_name,
)

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


async def test_a_killed_holder_frees_the_conversation_within_its_lease(prefix: str) -> None:
    child = subprocess.Popen(
        [sys.executable, str(WORKERS), "hold", prefix, "c", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    child.kill()  # SIGKILL: no release, no more heartbeats
    child.wait()
    killed = time.monotonic()
    store = await RedisLockStore.open(redis_settings(prefix), wait_timeout=10)  # lock_lifetime 60
    async with store.lock("c"):
        waited = time.monotonic() - killed
    assert 0.2 < waited < 1.6  # the lease (1 s), not lock_lifetime
    await store.close()


async def test_a_live_turn_keeps_its_lock_past_the_lease(prefix: str) -> None:
    """The heartbeat renews the lease while the turn runs: a turn of four leases is not
    interrupted by a waiter."""
    holder = await RedisLockStore.open(redis_settings(prefix), lease=0.4)
    waiter = await RedisLockStore.open(redis_settings(prefix), lease=0.4, wait_timeout=1.2)
    async with holder.lock("c"):
        with pytest.raises(LockError):
            async with waiter.lock("c"):
                pass
        await asyncio.sleep(0.4)
    async with waiter.lock("c"):  # released: no wait
        pass
    await holder.close()
    await waiter.close()


async def test_lock_lifetime_bounds_a_live_turn(prefix: str) -> None:
    holder = await RedisLockStore.open(redis_settings(prefix), lease=0.3, lock_lifetime=1.0)
    waiter = await RedisLockStore.open(redis_settings(prefix), lease=0.3, wait_timeout=10)
    release = asyncio.Event()

    async def stuck_turn() -> None:
        async with holder.lock("c"):
            await release.wait()

    task = asyncio.create_task(stuck_turn())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    async with waiter.lock("c"):
        waited = time.monotonic() - started
    release.set()
    await task
    assert 0.6 < waited < 2.0
    await holder.close()
    await waiter.close()


async def test_a_holder_knows_when_a_stall_outlasted_its_lease(prefix: str) -> None:
    store = await RedisLockStore.open(redis_settings(prefix), lease=0.4)
    async with store.lock("long turn") as token:
        await asyncio.sleep(1.2)  # three leases, the heartbeat renewing
        assert token.held()
    async with store.lock("stalled") as token:
        assert token.held()
        time.sleep(0.6)  # the event loop blocked (a long GC, a starved process): no heartbeat
        assert not token.held()
    await store.close()


async def test_fencing_tokens_grow_even_when_the_token_key_is_lost(prefix: str) -> None:
    store = await RedisLockStore.open(redis_settings(prefix))
    tokens = []
    for conversation in ("a", "b", "a"):
        async with store.lock(conversation) as token:
            tokens.append(token)
    await store.redis.delete(store._fence_key)  # evicted, or Redis restarted without it
    async with store.lock("a") as token:
        tokens.append(token)
    assert tokens == sorted(tokens) and len(set(tokens)) == 4
    assert tokens[0] > 1_700_000_000_000_000  # Redis time in microseconds
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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "redis"])
async def test_a_paused_holder_cannot_append_after_its_lock_was_taken_over(
    kind: str, prefix: str, tmp_path: Path
) -> None:
    """A worker frozen mid-turn (SIGSTOP: a long GC pause, a stalled VM) stops heartbeating;
    another takes the conversation over after the lease and appends. When the frozen one wakes
    up and appends with its old token, the tracker store refuses and stores nothing."""
    schema = unique_name("fence")
    endpoints = {
        "sqlite": {"tracker_store": {"type": "sql"}},
        "postgresql": {"tracker_store": {"type": "sql", **POSTGRES, "schema": schema}},
        "redis": {"tracker_store": {"type": "redis", **REDIS, "key_prefix": prefix}},
    }[kind]
    child = subprocess.Popen(
        [
            sys.executable,
            str(WORKERS),
            "hold-append",
            json.dumps(endpoints),
            str(tmp_path),
            prefix,
            "c",
            "0.5",
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    tracker_store = await create_tracker_store(endpoints, tmp_path)
    locks = await RedisLockStore.open(redis_settings(prefix), wait_timeout=10)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        child.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        async with locks.lock("c") as fence:
            assert time.monotonic() - started < 1.5  # the lease (0.5 s) ran out
            await tracker_store.append(
                "c", [{"event": "user", "timestamp": 2.0, "text": "new"}], fence=fence
            )
        child.send_signal(signal.SIGCONT)
        reply, _ = await asyncio.to_thread(child.communicate, "go\n", 30)
        assert reply.strip() == "fenced"
        stored = await tracker_store.load("c") or []
        assert [e["text"] for e in stored] == ["new"]
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGCONT)
            child.kill()
        await tracker_store.close()
        await locks.close()
        if kind == "postgresql":
            await drop_schema(schema)
