"""Server benchmark: `parley run` on the demo assistant (SQLite store), REST load at
concurrency 1, 8 and 32; start time and RSS. Writes bench/results/server.json.

    make bench-server                       # full run: 30 s per level
    python bench/server_bench.py -d 5       # quick look

Targets (2 cores): >= 500 msgs/s and p99 <= 50 ms at c=32 with zero errors, start <= 2 s,
RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO = REPO / "build" / "bench-demo"
RESULTS = REPO / "bench" / "results" / "server.json"
TARGETS = {"msgs_per_s_c32": 500, "p99_ms_c32": 50, "start_s": 2.0, "rss_mb": 300}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parley(*args: str, cwd: Path) -> None:
    subprocess.run([str(BIN / "parley"), *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def prepare_demo() -> None:
    if not DEMO.is_dir():
        DEMO.parent.mkdir(parents=True, exist_ok=True)
        parley("init", str(DEMO), cwd=REPO)
    parley("train", cwd=DEMO)
    (DEMO / "parley.db").unlink(missing_ok=True)  # every run starts on an empty database


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, process: subprocess.Popen[bytes], limit: float = 60) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if process.poll() is not None:
            raise SystemExit(f"parley run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.02)
    raise SystemExit("parley run did not become ready")


def load(port: int, concurrency: int, duration: float) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "load_gen.py"),
            "--url",
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            "-c",
            str(concurrency),
            "-d",
            str(duration),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def parse_latency(port: int, count: int = 300) -> dict[str, float]:
    texts = ["how do I reset my password", "the wifi is down", "hello", "I need a human"]
    timings = []
    for i in range(count):
        body = json.dumps({"text": texts[i % len(texts)]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/model/parse",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()
        timings.append(time.perf_counter() - start)
    timings.sort()
    return {
        "p50_ms": round(timings[len(timings) // 2] * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    prepare_demo()
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    launched = time.perf_counter()
    server = subprocess.Popen(
        [
            str(BIN / "parley"),
            "run",
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--enable-api",
            "--log-format",
            "json",
        ],
        cwd=DEMO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(REPO / "build" / "bench-server.log", "wb"),  # noqa: SIM115
    )
    try:
        start_s = round(wait_ready(port, server) - launched, 2)
        start_cpu_s = round(cpu_seconds(server.pid), 2)
        rss_idle = rss_mb(server.pid)
        parse = parse_latency(port)
        levels = []
        for level in (int(c) for c in args.levels.split(",")):
            cpu_before = cpu_seconds(server.pid)
            load_before = os.getloadavg()[0]
            result = load(port, level, args.duration)
            handled = int(result["ok"]) + int(result["errors"]) + 3  # type: ignore[call-overload]
            cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / handled
            result["server_cpu_ms_per_msg"] = round(cpu_ms, 2)
            result["machine_load_avg_1m"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
            result["server_rss_mb"] = rss_mb(server.pid)
            print(json.dumps(result), flush=True)
            levels.append(result)
        peak = rss_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(15)
    c32 = next((r for r in levels if r["concurrency"] == 32), None)
    report = {
        "benchmark": "parley run, demo help-desk assistant, REST channel, SQLite tracker store",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "duration_per_level_s": args.duration,
        "start_s": start_s,
        "start_cpu_s": start_cpu_s,
        "rss_idle_mb": rss_idle,
        "rss_peak_mb": peak,
        "model_parse": parse,
        "levels": levels,
        "targets": TARGETS,
        "meets_targets": bool(
            c32
            and float(c32["msgs_per_s"]) >= TARGETS["msgs_per_s_c32"]  # type: ignore[arg-type]
            and float(c32["p99_ms"]) <= TARGETS["p99_ms_c32"]  # type: ignore[arg-type]
            and c32["errors"] == 0
            and start_s <= TARGETS["start_s"]
            and peak <= TARGETS["rss_mb"]
        ),
        "load_generator": "bench/load_gen.py (aiohttp, own process, conversations of 10 turns)",
        "note": (
            "machine_load_avg_1m is the 2-core machine's load while the level ran (other work "
            "shares the cores); server_cpu_ms_per_msg is the server's own CPU time per message, "
            "so 1000 / it bounds one server process's rate on a free core"
        ),
    }
    print(json.dumps(report, indent=2))
    if not args.no_write:
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
