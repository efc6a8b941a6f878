"""`parley run --workers N`: one port, N processes that share conversations, metrics, model
swaps and locks; a dead worker is replaced; SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_parley_run import project  # noqa: F401  (fixture)
from tests.parley_run import PARLEY, RunningParley, parley_run
from tests.ports import free_port
from tests.server.helpdesk import GREETING

pytestmark = pytest.mark.integration
SCRIPT = ["hi", "how do I connect to the vpn", "my printer is not working", "thanks", "bye"]


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(line) for line in out.split()}


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[RunningParley]:  # noqa: F811
    with parley_run(project, "--enable-api", workers=2, log=tmp_path / "server.log") as running:
        yield running


async def _conversation(url: str, sender: str) -> list[str]:
    answers = []
    # a new connection per message: the kernel spreads connections over the workers
    for text in SCRIPT:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            reply = await client.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            assert reply.status_code == 200
            answers.append(reply.json()[0]["text"])
    return answers


def test_workers_share_conversations_metrics_and_model_swaps(
    server: RunningParley,
    project: Path,  # noqa: F811
) -> None:
    url = server.url
    assert len(_children(server.process.pid)) == 2

    async def talk() -> list[list[str]]:
        return await asyncio.gather(*(_conversation(url, f"user-{i}") for i in range(20)))

    answers = asyncio.run(talk())
    assert all(a[0].startswith(GREETING) for a in answers)
    with httpx.Client(base_url=url) as client:
        for i in range(20):  # every turn stored once, in order, whichever worker served it
            events = client.get(f"/conversations/user-{i}/tracker").json()["events"]
            assert [e["text"] for e in events if e["event"] == "user"] == SCRIPT
        metrics = client.get("/metrics").text
        assert 'parley_messages_total{channel="rest"} 100.0' in metrics

        # A swap through one worker: every worker serves the new model soon after.
        models = project / "models"
        [archive] = list(models.glob("*.tar.gz"))
        other = models / "swapped.tar.gz"
        shutil.copy(archive, other)
        assert client.put("/model", json={"model_file": str(other)}).status_code == 204
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        files = set()
        for _ in range(10):
            with httpx.Client(base_url=url) as fresh:  # new connections reach both workers
                files.add(fresh.get("/status").json()["model_file"])
        if files == {str(other)}:
            break
        time.sleep(0.3)
    assert files == {str(other)}


def test_each_worker_runs_its_blas_and_openmp_pools_with_one_thread(server: RunningParley) -> None:
    """Unpinned, the workers' BLAS pools fight over the cores (2 workers: half the throughput
    of 1 on 2 cores); the user sets nothing. Each worker reports its pools once serving."""
    reports = [
        json.loads(line)
        for line in server.log.read_text().splitlines()
        if line.startswith("{") and "native thread pools" in line
    ]
    assert {r["pid"] for r in reports} == _children(server.process.pid)
    for report in reports:
        assert "openblas" in report["native_threads"]  # numpy's BLAS is loaded
        assert set(report["native_threads"].values()) == {1}


def test_workers_stop_when_their_supervisor_is_killed(server: RunningParley) -> None:
    process = server.process
    workers = _children(process.pid)
    process.kill()
    process.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(server: RunningParley) -> None:
    process = server.process
    workers = _children(process.pid)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = _children(process.pid)
        if len(current) == 2 and victim not in current:
            break
        time.sleep(0.1)
    server.wait_until_ready()
    replaced = _children(process.pid)
    assert victim not in replaced and len(replaced) == 2
    reply = httpx.post(
        f"{server.url}/webhooks/rest/webhook", json={"sender": "after", "message": "hi"}
    )
    assert reply.json()[0]["text"].startswith(GREETING)

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    for pid in replaced:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "starting a new one" in server.log.read_text()


def test_an_in_memory_tracker_store_is_refused_with_workers(project: Path) -> None:  # noqa: F811
    (project / "endpoints.yml").write_text("tracker_store:\n  type: in_memory\n", "utf-8")
    result = subprocess.run(
        [*PARLEY, "run", "--port", str(free_port()), "--workers", "2"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "in_memory store lives in one process" in result.stdout + result.stderr


def test_workers_serve_https(project: Path, tmp_path: Path) -> None:  # noqa: F811
    from tests.integration.test_server_tls import make_certificate

    password = "worker-key-password"
    cert, key = make_certificate(tmp_path, password.encode())
    trusted = ssl.create_default_context(cafile=str(cert))
    tls = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--ssl-password", password)
    with parley_run(project, *tls, workers=2, log=tmp_path / "server.log", tls=trusted) as server:
        for i in range(6):  # new connections: both workers answer over TLS
            with httpx.Client(verify=trusted) as client:
                reply = client.post(
                    f"{server.url}/webhooks/rest/webhook",
                    json={"sender": f"tls-{i}", "message": "hi"},
                )
            assert reply.json()[0]["text"].startswith(GREETING)
        assert server.stop() == 0
