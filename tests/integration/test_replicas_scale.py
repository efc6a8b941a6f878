"""Three `parley run` replicas sharing PostgreSQL and a Redis lock store (issue 7 acceptance).

200 conversations x 10 turns go round-robin across the replicas; every tracker must then hold
exactly the acknowledged messages, in order, each turn whole. A second run kills one replica
with SIGKILL mid-load: conversations stay consistent and the others keep serving. A third kills
one of the two workers of `parley run --workers 2` under 32 users (issue 16): nothing lost or
duplicated, and no user waits more than 5 s after the kill (the Redis lease, 3 s by default,
frees the dead worker's conversations).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.replicas import (
    consistency_problems,
    fetch_events,
    kill_a_worker_under_load,
    run_load,
)
from tests.parley_run import parley_run
from tests.ports import free_port
from tests.stores.conftest import drop_redis_keys, drop_schema, unique_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("parley.server") is None,
        reason="needs the HTTP server (parley run), which is not on main yet",
    ),
]
PARLEY = [sys.executable, "-m", "parley.cli.main"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The starter assistant, trained once, stored in PostgreSQL with Redis locks."""
    root = tmp_path_factory.mktemp("scale") / "bot"
    subprocess.run([*PARLEY, "init", str(root)], check=True, timeout=120)
    schema, prefix = unique_name("scale"), unique_name("scale")
    (root / "endpoints.yml").write_text(
        "tracker_store:\n  type: sql\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
        f"  db: test\n  schema: {schema}\n"
        "lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 0\n"
        f"  key_prefix: {prefix}\n",  # default lease: a killed holder's locks free in 3 s
        encoding="utf-8",
    )
    subprocess.run([*PARLEY, "train"], cwd=root, check=True, timeout=600)
    yield root
    asyncio.run(drop_schema(schema))
    asyncio.run(drop_redis_keys(prefix))


@pytest.fixture
async def replicas(project: Path) -> AsyncIterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    started = []
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            [*PARLEY, "run", "--port", str(port), "--enable-api"],
            cwd=project,
            env={**os.environ, "PARLEY_LOG_LEVEL": "WARNING"},
        )
        started.append((f"http://127.0.0.1:{port}", process))
    try:
        for url, process in started:
            await _wait_until_ready(url, process)
        yield started
    finally:
        for _, process in started:
            if process.poll() is None:
                process.terminate()
        for _, process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


async def _wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"replica at {url} exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/")).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"replica at {url} did not answer within 90 s")


async def check_all(url: str, report_conversations: list) -> list[str]:  # type: ignore[type-arg]
    problems: list[str] = []
    for conversation in report_conversations:
        problems += consistency_problems(
            conversation, await fetch_events(url, conversation.sender_id)
        )
    return problems


async def test_replicas_lose_and_duplicate_nothing(replicas) -> None:  # type: ignore[no-untyped-def]
    urls = [url for url, _ in replicas]
    report = await run_load(urls, conversations=200, turns=10, prefix=unique_name("calm"))
    assert report.turns_failed == 0
    assert report.turns_ok == 2000
    problems = await check_all(urls[0], report.conversations)
    assert problems == []


async def test_killing_a_replica_mid_load_keeps_conversations_whole(replicas) -> None:  # type: ignore[no-untyped-def]
    urls = [url for url, _ in replicas]
    victim_url, victim = replicas[2]

    async def kill_midway(done: int) -> None:
        if done == 600 and victim.poll() is None:
            victim.send_signal(signal.SIGKILL)

    report = await run_load(
        urls, conversations=200, turns=10, prefix=unique_name("kill"), on_turn=kill_midway
    )
    assert victim.poll() is not None
    assert set(report.failures_by_replica) <= {victim_url}  # the others kept serving
    # Turn t of conversation c went to replica (c + t) % 3: 666 of the 2,000 to the victim, of
    # which those before the kill succeeded.
    assert 0 < report.turns_failed < 666
    survivor = urls[0]
    problems = await check_all(survivor, report.conversations)
    assert problems == []


async def test_killing_one_of_two_workers_loses_nothing_and_stalls_no_one(
    project: Path, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    env = {"PARLEY_LOG_LEVEL": "WARNING"}
    with parley_run(project, "--enable-api", workers=2, log=log, env=env) as server:
        supervisor = server.process.pid
        report, killed = await kill_a_worker_under_load(
            server.url, supervisor, unique_name("kill2")
        )
        problems = await check_all(server.url, report.conversations)
    assert problems == []
    late = report.late_after(killed, 5.0)
    assert late == [], f"{len(late)} requests answered more than 5 s after the kill: {late[:3]}"
    after = [r for r in report.requests if r.sent > killed + 1 and r.ok]
    assert len(after) > 32  # the surviving worker (and the replacement) kept serving
