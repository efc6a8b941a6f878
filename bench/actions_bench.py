"""Custom action call benchmark: what a custom action costs the assistant per call.

Measures latency and throughput of one simple action run (1) in-process, (2) over HTTP on a
`parley run actions` process on 127.0.0.1, plain and with JWT + HMAC signing, and (3) how fast
a user gets an answer when the action server is down (connection refused, then circuit open).
The request carries a 60-event tracker and the bank fixture's domain. Writes
bench/results/actions.json.

    python bench/actions_bench.py [--seconds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from parley.action_runners import ActionServerError, InProcessActionRunner, create_action_runner
from parley.dialogue.actions.remote import RASA_PROTOCOL_VERSION
from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.domain_json import domain_to_json
from parley.project import load_project

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.ports: one free-port helper for tests and benchmarks
from tests.ports import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "actions.json"
BANKBOT = ROOT / "tests" / "fixtures" / "bankbot"
SECRET = "benchmark-secret-0123456789-abcdefghij"
ACTIONS = """
from parley.sdk import Action
from parley.sdk.events import SlotSet


class ActionCheckBalance(Action):
    def name(self):
        return "action_check_balance"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"Balance of {tracker.get_slot('account')}: 120.50 EUR")
        return [SlotSet("balance", 120.5)]
"""


def request() -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    for turn in range(12):
        events += [
            {"event": "action", "name": "action_listen", "timestamp": 1.0 + turn},
            {
                "event": "user",
                "timestamp": 1.1 + turn,
                "text": "what is my balance",
                "parse_data": {
                    "text": "what is my balance",
                    "intent": {"name": "check_balance", "confidence": 0.97},
                    "entities": [{"entity": "account", "value": "savings"}],
                },
                "input_channel": "rest",
            },
            {"event": "slot", "timestamp": 1.2 + turn, "name": "account", "value": "savings"},
            {"event": "action", "name": "action_check_balance", "timestamp": 1.3 + turn},
            {"event": "bot", "timestamp": 1.4 + turn, "text": "Balance: 120.50 EUR", "data": {}},
        ]
    tracker = {
        "sender_id": "bench",
        "slots": {"account": "savings"},
        "latest_message": events[-4]["parse_data"],
        "events": events,
        "paused": False,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {
        "next_action": "action_check_balance",
        "sender_id": "bench",
        "tracker": tracker,
        "domain": domain_to_json(load_project(BANKBOT).domain),
        "version": RASA_PROTOCOL_VERSION,
    }


async def measure(runner: CustomActionRunner, seconds: float, concurrency: int) -> dict[str, Any]:
    payload = request()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await runner.run("action_check_balance", payload)
            latencies.append(time.perf_counter() - started)

    await runner.run("action_check_balance", payload)  # warm up connections
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "calls": len(ordered),
        "calls_per_second": round(len(ordered) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 2),
        "latency_ms_p95": round(ordered[int(len(ordered) * 0.95)] * 1000, 2),
        "latency_ms_p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
    }


def start_server(folder: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "parley.cli.main", "run", "actions", "--actions"]
    command += ["bench_actions", "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=folder,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("parley run actions did not start")


async def dead_server() -> dict[str, Any]:
    runner = create_action_runner(
        {
            "action_endpoint": {
                "url": f"http://127.0.0.1:{free_port()}/webhook",
                "circuit_breaker": {"failure_threshold": 3},
            }
        }
    )
    assert runner is not None
    payload = request()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        with contextlib.suppress(ActionServerError):
            await runner.run("action_check_balance", payload)
        timings.append(round((time.perf_counter() - started) * 1000, 2))
    await runner.close()
    return {"ms_per_call_refused_then_circuit_open": timings}


async def main(seconds: float, concurrency: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_actions.py").write_text(ACTIONS)
        sys.path.insert(0, str(folder))
        in_process = InProcessActionRunner.from_module("bench_actions")
        results["in_process"] = await measure(in_process, seconds, concurrency)
        for name, env, settings in [
            ("http", {}, {}),
            (
                "http_jwt_hmac",
                {"PARLEY_ACTIONS_JWT_SECRET": SECRET, "PARLEY_ACTIONS_HMAC_SECRET": SECRET},
                {"jwt": {"secret": SECRET}, "hmac": {"secret": SECRET}},
            ),
        ]:
            port = free_port()
            server = start_server(folder, port, env)
            runner = create_action_runner(
                {"action_endpoint": {"url": f"http://127.0.0.1:{port}/webhook", **settings}}
            )
            assert runner is not None
            try:
                results[name] = await measure(runner, seconds, concurrency)
            finally:
                await runner.close()
                server.terminate()
                server.wait(10)
    results["dead_server"] = await dead_server()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    measured = asyncio.run(main(args.seconds, args.concurrency))
    report = {
        "benchmark": "actions",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "seconds_per_case": args.seconds,
        "concurrency": args.concurrency,
        "results": measured,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
