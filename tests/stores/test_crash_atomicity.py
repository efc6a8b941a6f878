"""Several processes appending to one conversation: races and SIGKILL leave only whole turns."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parley.stores import EventCipher, create_tracker_store
from tests.stores.conftest import POSTGRES, REDIS, drop_redis_keys, drop_schema, unique_name

WORKERS = Path(__file__).with_name("workers.py")
REPO = Path(__file__).resolve().parents[2]


KINDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.integration),
    pytest.param("redis", marks=pytest.mark.integration),
]


def endpoints_for(kind: str, name: str) -> dict:
    return {
        "sqlite": {"tracker_store": {"type": "sql"}},
        "postgresql": {"tracker_store": {"type": "sql", **POSTGRES, "schema": name}},
        "redis": {"tracker_store": {"type": "redis", **REDIS, "key_prefix": name}},
    }[kind]


async def clean_up(kind: str, name: str) -> None:
    if kind == "postgresql":
        await drop_schema(name)
    elif kind == "redis":
        await drop_redis_keys(name)


@pytest.mark.parametrize("kind", KINDS)
async def test_processes_racing_on_one_conversation_lose_nothing(kind: str, tmp_path: Path) -> None:
    name = unique_name(kind)
    endpoints = endpoints_for(kind, name)
    store = await create_tracker_store(endpoints, tmp_path, EventCipher(None))  # schema first
    turns = 40
    children = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKERS),
                "turns",
                json.dumps(endpoints),
                str(tmp_path),
                "c",
                writer,
                str(turns),
            ],
            cwd=REPO,
        )
        for writer in "abc"
    ]
    try:
        assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
        events = await store.load("c") or []
    finally:
        await store.close()
        await clean_up(kind, name)
    assert len(events) == 3 * turns * 5
    seen = []
    for start in range(0, len(events), 5):
        turn = events[start : start + 5]
        assert [e["i"] for e in turn] == list(range(5))
        assert len({(e["writer"], e["turn"]) for e in turn}) == 1
        seen.append((turn[0]["writer"], turn[0]["turn"]))
    for writer in "abc":  # each writer's turns appear once, in its own order
        assert [t for w, t in seen if w == writer] == list(range(turns))


@pytest.mark.parametrize("kind", KINDS)
async def test_killed_writer_leaves_only_complete_turns(kind: str, tmp_path: Path) -> None:
    name = unique_name(kind)
    endpoints = endpoints_for(kind, name)
    child = subprocess.Popen(
        [sys.executable, str(WORKERS), "append", json.dumps(endpoints), str(tmp_path), "c"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "appending"
        time.sleep(0.3)
    finally:
        child.kill()
        child.wait()
    store = await create_tracker_store(endpoints, tmp_path, EventCipher(None))
    try:
        events = await store.load("c") or []
        assert len(events) >= 80 and len(events) % 20 == 0
        for start in range(0, len(events), 20):
            turn = events[start : start + 20]
            assert [e["i"] for e in turn] == list(range(20))
            assert {e["turn"] for e in turn} == {start // 20}
        # The store stays usable: the next turn lands right after the last whole one.
        await store.append("c", [{"event": "user", "timestamp": 2.0, "text": "after"}])
        assert (await store.load("c") or [])[-1]["text"] == "after"
    finally:
        await store.close()
        await clean_up(kind, name)
