"""Model switches under load: `parley run` serves the demo assistant while the shared
`rest_load.py` keeps 32 users talking, and the rollout starts at 10 %, steps to 50 %, rolls
back, starts again and promotes. Every request must succeed and every message must be stored.
Writes bench/results/rollout_switch.json.

    make bench-rollout                 # 30 s of load
    python bench/rollout_switch.py -d 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.ports: one free-port helper for tests and benchmarks
from tests.ports import free_port  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = REPO / "bench" / "results" / "rollout_switch.json"
SHARED_BENCH = next(
    (p / "shared" / "bench" for p in REPO.parents if (p / "shared" / "bench").is_dir()),
    REPO.parent / "shared" / "bench",
)


def parley(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(BIN / "parley"), *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout


def prepare(project: Path) -> tuple[str, str]:
    """The demo trained twice (the second time with one example more); both registered."""
    parley("init", str(project), cwd=project.parent)
    parley("train", cwd=project)
    nlu = project / "data" / "nlu.yml"
    nlu.write_text(
        nlu.read_text().replace("      - hello\n", "      - hello\n      - hey hey\n", 1)
    )
    parley("train", cwd=project)
    versions = json.loads(parley("models", "list", "--json", cwd=project))
    candidate, control = versions[0]["version"], versions[1]["version"]
    parley("models", "tag", control, "production", cwd=project)
    return control, candidate


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not become ready")


def stored_user_messages(project: Path, prefix: str) -> dict[str, int]:
    """User events per model version of the senders starting with `prefix`."""
    with sqlite3.connect(project / "parley.db") as db:
        rows = db.execute(
            "SELECT model_id, COUNT(*) FROM parley_events WHERE type_name = 'user' "
            "AND sender_id LIKE ? GROUP BY model_id",
            (prefix + "%",),
        ).fetchall()
    return {str(model): int(count) for model, count in rows}


async def _switch_during(
    project: Path, candidate: str, duration: float, began: float, log: list[dict[str, Any]]
) -> None:
    """The changes `parley rollout …` makes, spread over the load (in-process: a CLI start
    would take longer than the gaps between changes)."""
    from parley.models.service import open_releases

    releases = await open_releases({}, project)
    steps = [
        ("start 10 %", lambda: releases.start(candidate, 10)),
        ("step 50 %", lambda: releases.rollouts.step(50)),
        ("rollback", lambda: releases.rollouts.rollback(reason="bench")),
        ("start 30 %", lambda: releases.start(candidate, 30)),
        ("promote", lambda: releases.promote()),
    ]
    pause = duration / (len(steps) + 1)
    try:
        for name, change in steps:
            await asyncio.sleep(max(0.0, began + pause * (len(log) + 1) - time.monotonic()))
            await change()
            log.append({"at_s": round(time.monotonic() - began, 2), "change": name})
    finally:
        await releases.close()


def run(duration: float, concurrency: int = 32) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="parley-rollout-bench-"))
    try:
        project = work / "demo"
        control, candidate = prepare(project)
        port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen(
            [str(BIN / "parley"), "run", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/health/ready")
            load = subprocess.Popen(
                [
                    sys.executable,
                    str(SHARED_BENCH / "rest_load.py"),
                    "--url",
                    f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                    "-c",
                    str(concurrency),
                    "-d",
                    str(duration),
                    "--warmup",
                    "0",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            switches: list[dict[str, Any]] = []

            def switch() -> None:
                asyncio.run(_switch_during(project, candidate, duration, began, switches))

            began = time.monotonic()
            switcher = threading.Thread(target=switch)
            switcher.start()
            output, _ = load.communicate(timeout=duration + 120)
            switcher.join()
            result = json.loads(output.strip().splitlines()[-1])
            time.sleep(1.5)  # the last turns are stored before the count
            stored = stored_user_messages(project, "vu-")
        finally:
            server.terminate()
            server.wait(timeout=30)
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores",
            "concurrency": concurrency,
            "duration_s": duration,
            "load": result,
            "switches": switches,
            "stored_user_messages": stored,
            "stored_total": sum(stored.values()),
            "lost": result["ok"] - sum(stored.values()),
            "control": control,
            "candidate": candidate,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="Print only.")
    args = parser.parse_args()
    result = run(args.duration, args.concurrency)
    print(json.dumps(result, indent=2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
