"""Studio benchmark: the conversation list with each single filter, and the analytics page's
queries, on a seeded SQL store (SQLite file, and PostgreSQL 127.0.0.1:5432/test when reachable).

Seeds N conversations of 10 events (three turns of user, action and a bot message or a slot
set, then action_listen; a user message names a device entity one time in three) straight into
parley_conversations/parley_events, builds the studio's index once (timed: `index_seconds`),
then times each query R times and records p50/p95 in milliseconds.
The issue's target: list with any one filter and analytics <= 300 ms p95 at 100,000
conversations (1,000,000 events). Writes bench/results/studio.json.

    python bench/studio_bench.py [--conversations 100000] [--repeat 20] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings, writer
from parley.stores.sql_schema import conversations, events
from parley.studio import index
from parley.studio.analytics import report
from parley.studio.queries import ConversationFilter, list_conversations

INTENTS = ["greet", "goodbye", "thank", "password_reset", "faq", "inform", "nlu_fallback"]
ACTIONS = ["utter_greet", "utter_goodbye", "action_reset", "utter_faq", "action_default_fallback",
           "action_handoff_to_human"]  # fmt: skip
CHANNELS = ["rest", "socketio", "slack", "telegram"]
MODELS = ["20260101-a", "20260201-b", "20260301-c"]
DEVICES = ["printer", "laptop", "phone", "router"]
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "active_from": {"active_from": "2026-03-01"},
    "started_to": {"started_to": "2026-02-01"},
    "channel": {"channel": "slack"},
    "model": {"model": "20260201-b"},
    "intent": {"intent": "password_reset"},
    "action": {"action": "action_reset"},
    "low_confidence": {"low_confidence": True},
    "fallback": {"fallback": True},
    "handoff": {"handoff": True},
    "min_turns": {"min_turns": 5},
    "tag": {"tag": "checked"},
    "review": {"review": "reviewed"},
    "text": {"text": "printer"},
    "page_100": {"page": 100},
    "abandoned": {"abandoned": True},
    "slot": {"slot": "account_type"},
    "slot_value": {"slot": "account_type", "slot_value": "Gold"},
    "entity": {"entity": "device"},
    "entity_value": {"entity": "device", "entity_value": "printer"},
}


def _conversation(n: int, start: float, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    channel, model = rng.choice(CHANNELS), rng.choice(MODELS)
    at = start
    for turn in range(3):
        intent = rng.choice(INTENTS)
        text = rng.choice(["my printer is broken", "hello", "reset my password", "bye", "hmm"])
        entities = [{"entity": "device", "value": rng.choice(DEVICES), "start": 3, "end": 10}
                    if rng.random() < 1 / 3 else None]  # fmt: skip
        rows.append({"event": "user", "timestamp": at, "text": text, "input_channel": channel,
                     "parse_data": {"intent": {"name": intent, "confidence": rng.random()},
                                    "entities": [e for e in entities if e]},
                     "metadata": {"model_id": model}})  # fmt: skip
        rows.append({"event": "action", "timestamp": at + 1, "name": rng.choice(ACTIONS),
                     "policy": "TEDPolicy", "confidence": rng.random(),
                     "metadata": {"model_id": model}})  # fmt: skip
        if turn == 1:
            rows.append({"event": "slot", "timestamp": at + 1, "name": "account_type",
                         "value": rng.choice(["gold", "silver", "bronze"])})  # fmt: skip
        else:
            rows.append({"event": "bot", "timestamp": at + 1, "text": "ok"})
        at += 60
    rows.append({"event": "action", "timestamp": at, "name": "action_listen",
                 "metadata": {"model_id": model}})  # fmt: skip
    return rows


async def _seed(store: SQLTrackerStore, count: int) -> None:
    rng = random.Random(7)
    base = 1_767_225_600.0  # 2026-01-01
    batch_conversations, batch_events = [], []
    for n in range(count):
        start = base + rng.random() * 90 * 86400
        rows = _conversation(n, start, rng)
        sender = f"c{n:07d}"
        batch_conversations.append({"sender_id": sender, "created_at": start,
                                    "latest_event_time": rows[-1]["timestamp"],
                                    "event_count": len(rows)})  # fmt: skip
        for sequence, event in enumerate(rows, 1):
            batch_events.append({"sender_id": sender, "sequence": sequence,
                                 "type_name": event["event"], "timestamp": event["timestamp"],
                                 "event_id": uuid.uuid4().hex,
                                 "model_id": (event.get("metadata") or {}).get("model_id"),
                                 "key_id": None, "body": orjson.dumps(event).decode()})  # fmt: skip
        if len(batch_conversations) >= 2000 or n == count - 1:
            async with writer(store.engine).begin() as connection:
                await connection.execute(conversations.insert(), batch_conversations)
                await connection.execute(events.insert(), batch_events)
            batch_conversations, batch_events = [], []


async def _time(call: Any, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 1)}  # fmt: skip


async def _run(store: SQLTrackerStore, count: int, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    await _seed(store, count)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    while await index.catch_up(store.engine, store.cipher, max_batches=1000):
        pass
    indexed = time.perf_counter() - started
    from parley.studio import queries

    for n in range(0, count, 1000):  # one conversation in 1,000 is tagged
        await queries.add_tag(store.engine, f"c{n:07d}", "checked", "bench")
    results: dict[str, Any] = {"seed_seconds": round(seeded, 1), "index_seconds": round(indexed, 1)}
    for name, where in FILTERS.items():
        flt = ConversationFilter.model_validate(where)
        results[f"list[{name}]"] = await _time(
            lambda f=flt: list_conversations(store.engine, f), repeat
        )
    for group in ("day", "channel", "model"):
        results[f"analytics[{group}]"] = await _time(
            lambda g=group: report(store.engine, g, None, None), repeat
        )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {
        "conversations": args.conversations,
        "events": args.conversations * 10,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus (shared; numbers are noisy)",
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as folder:
        store = await SQLTrackerStore.open(SQLSettings(db="bench.db"), Path(folder))
        try:
            out["sqlite"] = await _run(store, args.conversations, args.repeat)
        finally:
            await store.close()
    if not args.no_postgres:
        schema = f"parley_bench_studio_{uuid.uuid4().hex[:8]}"
        settings = SQLSettings.from_endpoint(
            {"dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "test",
             "schema": schema}, "bench")  # fmt: skip
        try:
            store = await SQLTrackerStore.open(settings, Path("."))
        except Exception as exc:
            out["postgresql"] = {"skipped": str(exc)}
        else:
            try:
                out["postgresql"] = await _run(store, args.conversations, args.repeat)
            finally:
                from sqlalchemy import text

                async with store.engine.begin() as connection:
                    await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await store.close()
    out["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    path = Path(__file__).parent / "results" / "studio.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
