"""Tracker store benchmark: turn latency, throughput and loading a 1,000-turn conversation.

A "turn" is what the engine does per message: load the conversation, then append the turn's new
events (user, slot, bot, action, action_listen) in one call, with encryption at rest on. Runs
SQLite (file), PostgreSQL (127.0.0.1:5432/test) and Redis (127.0.0.1:6379), each bounded to a
few seconds; a backend that is not reachable is recorded as skipped. Writes
bench/results/stores.json.

    python bench/stores_bench.py [--seconds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from parley.stores import (
    EncryptionKey,
    EventCipher,
    ManagedTrackerStore,
    RedisSettings,
    RedisTrackerStore,
    SQLSettings,
    SQLTrackerStore,
    StoreError,
)
from parley.stores.sql_engine import create_engine

RESULTS = Path(__file__).parent / "results" / "stores.json"
POSTGRES = {"dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "test"}


def turn_events(number: int) -> list[dict[str, Any]]:
    now = time.time()
    meta = {"model_id": "bench-model"}
    return [
        {
            "event": "user",
            "timestamp": now,
            "text": f"I'd like to book a table for {number % 8 + 1} people tonight",
            "parse_data": {
                "intent": {"name": "book_table", "confidence": 0.94},
                "entities": [
                    {
                        "entity": "party_size",
                        "value": str(number % 8 + 1),
                        "start": 29,
                        "end": 30,
                        "extractor": "CRFEntityExtractor",
                    }
                ],
                "intent_ranking": [
                    {"name": "book_table", "confidence": 0.94},
                    {"name": "greet", "confidence": 0.03},
                ],
                "text": "I'd like to book a table",
            },
            "input_channel": "rest",
            "metadata": {**meta, "event_id": uuid.uuid4().hex},
        },
        {
            "event": "slot",
            "timestamp": now,
            "name": "party_size",
            "value": str(number % 8 + 1),
            "metadata": {**meta, "event_id": uuid.uuid4().hex},
        },
        {
            "event": "action",
            "timestamp": now,
            "name": "utter_confirm",
            "policy": "RulePolicy",
            "confidence": 1.0,
            "metadata": {**meta, "event_id": uuid.uuid4().hex},
        },
        {
            "event": "bot",
            "timestamp": now,
            "text": "Great, a table it is. For what time?",
            "data": {},
            "metadata": {**meta, "event_id": uuid.uuid4().hex},
        },
        {
            "event": "action",
            "timestamp": now,
            "name": "action_listen",
            "policy": "RulePolicy",
            "confidence": 1.0,
            "metadata": {**meta, "event_id": uuid.uuid4().hex},
        },
    ]


async def one_turn(store: ManagedTrackerStore, sender_id: str, number: int) -> float:
    started = time.perf_counter()
    await store.load(sender_id)
    await store.append(sender_id, turn_events(number))
    return time.perf_counter() - started


async def latency(store: ManagedTrackerStore, seconds: float) -> dict[str, float]:
    """Sequential turns on conversations that grow to 20 turns, for `seconds`."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sender_id = uuid.uuid4().hex
        for number in range(20):
            samples.append(await one_turn(store, sender_id, number))
    samples.sort()
    return {
        "turns": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(samples[int(len(samples) * 0.95)] * 1000, 3),
        "p99_ms": round(samples[int(len(samples) * 0.99)] * 1000, 3),
    }


async def throughput(
    store: ManagedTrackerStore, seconds: float, concurrency: int
) -> dict[str, float]:
    """`concurrency` conversations taking turns at once, for `seconds`."""
    deadline = time.monotonic() + seconds
    counts = [0] * concurrency

    async def worker(index: int) -> None:
        sender_id = uuid.uuid4().hex
        while time.monotonic() < deadline:
            await one_turn(store, sender_id, counts[index])
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "turns": sum(counts),
        "turns_per_second": round(sum(counts) / elapsed, 1),
    }


async def long_conversation(store: ManagedTrackerStore, turns: int = 1000) -> dict[str, float]:
    sender_id = "long-" + uuid.uuid4().hex
    for number in range(turns):
        await store.append(sender_id, turn_events(number))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        events = await store.load(sender_id)
        timings.append(time.perf_counter() - started)
    assert events is not None and len(events) == turns * 5
    return {
        "turns": turns,
        "events": len(events),
        "load_ms_median": round(statistics.median(timings) * 1000, 2),
        "load_ms_min": round(min(timings) * 1000, 2),
    }


async def open_backend(
    name: str, folder: Path, cipher: EventCipher, tag: str
) -> ManagedTrackerStore:
    if name.startswith("sqlite"):
        return await SQLTrackerStore.open(SQLSettings(), folder, cipher)
    if name == "postgresql":
        return await SQLTrackerStore.open(
            SQLSettings.from_endpoint({**POSTGRES, "schema": tag}, "bench"), folder, cipher
        )
    settings = RedisSettings.from_endpoint({"url": "127.0.0.1", "key_prefix": tag}, "bench")
    return await RedisTrackerStore.open(settings, cipher)


async def clean_up(name: str, store: ManagedTrackerStore, tag: str) -> None:
    if isinstance(store, RedisTrackerStore):
        keys = [key async for key in store.redis.scan_iter(match=f"{tag}:*")]
        for start in range(0, len(keys), 1000):
            await store.redis.delete(*keys[start : start + 1000])
    await store.close()
    if name == "postgresql":
        engine = create_engine(SQLSettings.from_endpoint(POSTGRES, "bench"), Path("."))
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{tag}" CASCADE'))
        await engine.dispose()


async def run_backend(name: str, seconds: float, concurrency: int) -> dict[str, Any]:
    # "sqlite-plain": the same store without encryption at rest, to show what sealing costs.
    cipher = EventCipher(None if name.endswith("-plain") else EncryptionKey.generate())
    tag = f"parley_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        try:
            store = await open_backend(name, Path(folder), cipher, tag)
        except StoreError as exc:
            return {"skipped": str(exc)}
        try:
            result = {
                "turn_latency": await latency(store, seconds),
                "throughput": await throughput(store, seconds, concurrency),
                "load_1000_turns": await long_conversation(store),
            }
        finally:
            await clean_up(name, store, tag)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement and backend")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,sqlite-plain,postgresql,redis")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "stores",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "turn": "load + append of 5 events (user, slot, action, bot, action_listen); AES-GCM on "
        "except for sqlite-plain",
        "backends": {},
    }
    for name in args.backends.split(","):
        print(f"{name}…", file=sys.stderr, flush=True)
        results["backends"][name] = await run_backend(name, args.seconds, args.concurrency)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
