"""Server benchmark: `parley run` on the demo help-desk assistant and on moodbot: REST load at
concurrency 1, 8 and 32 in conversations of 10 turns, and at 32 in conversations that grow
through the whole run; start time and memory. Two store set-ups (`--stores`):

- `sqlite`: SQLite tracker store and file locks (the default), with 2 and 1 worker processes;
  bench/results/server.json.
- `postgres-redis`: PostgreSQL tracker store + Redis lock store (what deployments beyond one
  host use), with 2 workers; 127.0.0.1:5432 db `test` and 127.0.0.1:6379, a schema and key
  prefix of each server run's own, dropped afterwards; then SQLite again (2 workers, c=32)
  right after, under the same machine load; bench/results/server_postgres_redis.json.

    make bench-server                                        # both set-ups: 30 s per level
    python bench/server_bench.py -d 5 --stores sqlite        # quick look
    python bench/server_bench.py -d 5 --levels 32 --no-tools --assistants moodbot --no-write

Targets (2 cores): SQLite >= 500 msgs/s and p99 <= 50 ms at c=32 with zero errors, start <= 2 s,
RSS <= 300 MB; 2 workers >= 1.7x the messages/s of 1 worker with p99 <= 50 ms at c=32, on both
assistants and both conversation shapes. PostgreSQL + Redis: >= 600 msgs/s and p99 <= 80 ms at
c=32 with 2 workers, zero errors, start <= 2 s, RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.ports: one free-port helper for tests and benchmarks
from tests.ports import free_port  # noqa: E402

BIN = Path(sys.executable).parent
BUILD = REPO / "build"
RESULTS = REPO / "bench" / "results"
# the shared examples and load tools beside the repository (PARLEY_SHARED: elsewhere, e.g. from
# a git worktree)
SHARED = Path(os.environ.get("PARLEY_SHARED") or REPO.parent / "shared")
SHARED_BENCH = SHARED / "bench"
SHARED_EXAMPLES = SHARED / "examples"
TARGETS = {  # SQLite
    "msgs_per_s_c32": 500,
    "p99_ms_c32": 50,
    "start_s": 2.0,
    "rss_mb": 300,
    "two_workers_speedup_c32": 1.7,
}
PG_REDIS_TARGETS = {**TARGETS, "msgs_per_s_c32": 600, "p99_ms_c32": 80}
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
# assistant -> the load generator's script of user messages (bench/load_gen.py --script)
ASSISTANTS = {"demo": "helpdesk", "moodbot": "moodbot"}
ASSISTANT_TITLES = {"demo": "demo help-desk assistant", "moodbot": "moodbot"}
SHAPES = {"10_turns": 10, "growing": 0}  # load_gen.py --turns


@dataclass(frozen=True)
class Setup:
    """A store set-up: what the report calls it, its result file, targets, default workers."""

    title: str
    file_name: str
    targets: dict[str, float]
    workers: str


SETUPS = {
    "sqlite": Setup("SQLite tracker store, file locks", "server.json", TARGETS, "2,1"),
    "postgres-redis": Setup(
        "PostgreSQL tracker store, Redis lock store",
        "server_postgres_redis.json",
        PG_REDIS_TARGETS,
        "2",
    ),
}


def parley(*args: str, cwd: Path) -> None:
    subprocess.run([str(BIN / "parley"), *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def prepare(assistant: str) -> Path:
    """The assistant's project under build/, trained: the demo `parley init` makes, or a copy
    of a shared example."""
    folder = BUILD / f"bench-{assistant}"
    if not folder.is_dir():
        BUILD.mkdir(parents=True, exist_ok=True)
        if assistant == "demo":
            parley("init", str(folder), cwd=REPO)
        else:
            shutil.copytree(SHARED_EXAMPLES / assistant, folder)
    parley("train", cwd=folder)
    return folder


@contextmanager
def store_setup(stores: str, folder: Path) -> Iterator[Path]:
    """The project folder a server runs in for a store set-up: the trained project itself for
    SQLite; for PostgreSQL + Redis a copy whose endpoints.yml (its other sections kept) points
    at a fresh schema and key prefix, both dropped afterwards."""
    if stores == "sqlite":
        yield folder
        return
    if stores != "postgres-redis":
        raise SystemExit(f"--stores: unknown set-up {stores!r}; known: {', '.join(SETUPS)}")
    _check_postgres_redis()
    name = f"parley_bench_{uuid.uuid4().hex[:10]}"
    project = BUILD / f"{folder.name}-postgres-redis"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(folder, project, ignore=shutil.ignore_patterns("parley.db*", ".parley"))
    endpoints_file = project / "endpoints.yml"
    endpoints = (
        yaml.safe_load(endpoints_file.read_text(encoding="utf-8"))
        if endpoints_file.exists()
        else None
    ) or {}
    endpoints["tracker_store"] = {
        "type": "sql",
        "dialect": "postgresql",
        "url": "127.0.0.1",
        "port": 5432,
        "db": "test",
        "username": "postgres",
        "schema": name,
    }
    endpoints["lock_store"] = {
        "type": "redis",
        "url": "127.0.0.1",
        "port": 6379,
        "db": 0,
        "key_prefix": name,
    }
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    try:
        yield project
    finally:
        _drop_postgres_redis(name)


def _check_postgres_redis() -> None:
    import psycopg
    import redis

    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except (psycopg.Error, redis.RedisError) as error:
        raise SystemExit(
            f"--stores postgres-redis needs PostgreSQL ({POSTGRES_URL}) and Redis ({REDIS_URL}): "
            f"{error}; start them, or run with --stores sqlite"
        ) from error


def _drop_postgres_redis(name: str) -> None:
    import psycopg
    import redis

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    client.close()


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


def load(
    port: int, concurrency: int, duration: float, script: str, turns: int = 10
) -> dict[str, object]:
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
            "--script",
            script,
            "--turns",
            str(turns),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def shared_tool(name: str, *args: str) -> dict[str, object]:
    """Run one of ../shared/bench's tools (those Rasa 3.6's figures were measured with)."""
    out = subprocess.run(
        [sys.executable, str(SHARED_BENCH / name), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def wrk(port: int, script: Path, duration: float, *script_args: str) -> dict[str, object] | None:
    """wrk (a load generator in C, Debian package `wrk`) at 32 connections; None if missing.
    It takes a fraction of the CPU the aiohttp generator needs, leaving the cores to the
    server: the closer measure of what the server itself does on this 2-core machine."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    out = subprocess.run(
        [
            binary,
            "-t1",
            "-c32",
            f"-d{int(duration)}s",
            "--latency",
            "--timeout",
            "15s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            *(["--", *script_args] if script_args else []),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    last = out.stdout.strip().splitlines()[-1]
    if last.startswith("{"):
        result: dict[str, object] = json.loads(last)
        return result
    return _wrk_summary(out.stdout)


def _wrk_summary(text: str) -> dict[str, object]:
    """Requests/s, latency percentiles (ms) and errors from wrk's own report."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    summary: dict[str, object] = {}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            summary["msgs_per_s"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            number = parts[1].rstrip("usm")
            unit = parts[1][len(number) :]
            summary[f"p{parts[0][:-1]}_ms"] = round(float(number) * units[unit], 2)
        elif "Non-2xx" in line or "Socket errors" in line:
            summary.setdefault("errors_text", []).append(line.strip())  # type: ignore[union-attr]
    return summary


def server_pids(pid: int) -> list[int]:
    """The server process and its workers (children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *found]


def group_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in server_pids(pid))


def group_memory_mb(pid: int) -> dict[str, float]:
    """RSS of each process, and their PSS summed: the memory the server really takes, shared
    pages (libraries loaded before the workers forked) counted once."""
    rss = [rss_mb(p) for p in server_pids(pid)]
    pss = 0.0
    for p in server_pids(pid):
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
    return {"rss_mb_per_process": rss, "pss_mb_total": round(pss, 1)}


def measured_load(
    pid: int, port: int, concurrency: int, duration: float, script: str, turns: int
) -> dict[str, object]:
    """One load level, with the server's CPU per message and its memory afterwards."""
    cpu_before = group_cpu_seconds(pid)
    load_before = os.getloadavg()[0]
    result = load(port, concurrency, duration, script, turns)
    handled = int(result["ok"]) + int(result["errors"]) + 3  # type: ignore[call-overload]
    cpu_ms = (group_cpu_seconds(pid) - cpu_before) * 1000 / handled
    result["server_cpu_ms_per_msg"] = round(cpu_ms, 2)
    result["machine_load_avg_1m"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    result.update(group_memory_mb(pid))
    print(json.dumps(result), flush=True)
    return result


def shared_tools(pid: int, port: int, duration: float) -> dict[str, object]:
    """../shared/bench's REST load (ever-growing conversations, aiohttp) and the wrk runs."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    rasa_tool = shared_tool("rest_load.py", "--url", url, "-c", "32", "-d", str(duration))
    print(json.dumps({"shared rest_load.py": rasa_tool}), flush=True)
    cpu_before = group_cpu_seconds(pid)
    wrk_conversations = wrk(port, REPO / "bench" / "wrk_conversations.lua", duration, "32")
    if wrk_conversations is not None and "requests" in wrk_conversations:
        wrk_conversations["server_cpu_ms_per_msg"] = round(
            (group_cpu_seconds(pid) - cpu_before)
            * 1000
            / max(1, int(wrk_conversations["requests"])),  # type: ignore[call-overload]
            2,
        )
    print(json.dumps({"wrk conversations": wrk_conversations}), flush=True)
    wrk_unique = wrk(port, SHARED_BENCH / "rest_unique_sender.lua", duration)
    print(json.dumps({"wrk shared rest_unique_sender.lua": wrk_unique}), flush=True)
    return {
        "shared_rest_load_c32_hello": rasa_tool,
        "wrk_c32_conversations": wrk_conversations,
        "wrk_c32_shared_unique_sender": wrk_unique,
    }


def run_server(
    assistant: str,
    folder: Path,
    workers: int,
    duration: float,
    levels: list[int],
    tools: bool,
    targets: dict[str, float] = TARGETS,
) -> dict[str, object]:
    """One `parley run --workers N` in `folder` (a store set-up's project), measured."""
    port = free_port()
    (folder / "parley.db").unlink(missing_ok=True)  # every run starts on an empty database
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
            "--workers",
            str(workers),
        ],
        cwd=folder,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=open(BUILD / f"{folder.name}-{workers}.log", "wb"),  # noqa: SIM115
    )
    script = ASSISTANTS[assistant]
    try:
        start_s = round(wait_ready(port, server) - launched, 2)
        time.sleep(0.5)  # all workers up (ready means the first answered)
        idle = group_memory_mb(server.pid)
        parse = shared_tool("parse_latency.py", "--url", f"http://127.0.0.1:{port}/model/parse")
        results = [
            measured_load(server.pid, port, level, duration, script, SHAPES["10_turns"])
            for level in levels
        ]
        growing = measured_load(server.pid, port, 32, duration, script, SHAPES["growing"])
        peak_pss = max(float(r["pss_mb_total"]) for r in [idle, *results, growing])  # type: ignore[arg-type]
        extra = shared_tools(server.pid, port, duration) if tools else {}
    finally:
        server.terminate()
        server.wait(30)
    c32 = next((r for r in results if r["concurrency"] == 32), None)
    wrk_conversations: Any = extra.get("wrk_c32_conversations")
    return {
        "assistant": assistant,
        "workers": workers,
        "start_s": start_s,
        "memory_idle": idle,
        "memory_peak_pss_mb": round(peak_pss, 1),
        "model_parse_shared_tool": parse,
        "levels": results,
        "growing_c32": growing,
        **extra,
        "meets_targets": bool(
            c32
            and float(c32["msgs_per_s"]) >= targets["msgs_per_s_c32"]  # type: ignore[arg-type]
            and float(c32["p99_ms"]) <= targets["p99_ms_c32"]  # type: ignore[arg-type]
            and c32["errors"] == 0
            and start_s <= targets["start_s"]
            and peak_pss <= targets["rss_mb"]
        ),
        "meets_targets_with_wrk": bool(
            wrk_conversations
            and float(wrk_conversations.get("msgs_per_s", 0)) >= targets["msgs_per_s_c32"]
            and float(wrk_conversations.get("p99_ms", 1e9)) <= targets["p99_ms_c32"]
            and wrk_conversations.get("errors") == 0
            and start_s <= targets["start_s"]
            and peak_pss <= targets["rss_mb"]
        ),
    }


def _c32(run: dict[str, Any], shape: str) -> dict[str, Any] | None:
    if shape == "growing":
        growing: dict[str, Any] = run["growing_c32"]
        return growing
    return next((r for r in run["levels"] if r["concurrency"] == 32), None)


def cpu_budget(one: dict[str, Any], two: dict[str, Any]) -> dict[str, object]:
    """Where the 2 cores went at c=32 with 1 and 2 workers: the server's and the load
    generator's CPU per message (s, g) and the cores each used. One worker is one event loop:
    at most 1 core, the generator on the other. Two workers share both cores with the
    generator, so at best they reach 2 / (s + g) messages per ms where one reached 1 / s."""
    s = {k: float(r["server_cpu_ms_per_msg"]) for k, r in (("1", one), ("2", two))}
    g = {k: float(r["generator_cpu_ms"]) for k, r in (("1", one), ("2", two))}
    rate = {k: float(r["msgs_per_s"]) for k, r in (("1", one), ("2", two))}
    return {
        "server_cpu_ms_per_msg": s,
        "generator_cpu_ms_per_msg": g,
        "server_cores_used": {k: round(rate[k] * s[k] / 1000, 2) for k in s},
        "generator_cores_used": {k: round(rate[k] * g[k] / 1000, 2) for k in g},
        "speedup_bound_2s_over_s_plus_g": round(2 * s["1"] / (s["2"] + g["2"]), 2),
    }


def scaling(
    runs: list[dict[str, Any]], targets: dict[str, float] = TARGETS
) -> list[dict[str, object]]:
    """Per assistant and conversation shape at c=32: 1 worker against 2 (the issue's target)."""
    rows: list[dict[str, object]] = []
    for assistant in dict.fromkeys(r["assistant"] for r in runs):
        by_workers = {r["workers"]: r for r in runs if r["assistant"] == assistant}
        if 1 not in by_workers or 2 not in by_workers:
            continue
        for shape in SHAPES:
            one, two = _c32(by_workers[1], shape), _c32(by_workers[2], shape)
            if one is None or two is None:
                continue
            speedup = round(float(two["msgs_per_s"]) / max(float(one["msgs_per_s"]), 1e-9), 2)
            rows.append(
                {
                    "assistant": assistant,
                    "shape": shape,
                    "msgs_per_s": {"1": one["msgs_per_s"], "2": two["msgs_per_s"]},
                    "p99_ms": {"1": one["p99_ms"], "2": two["p99_ms"]},
                    "errors": {"1": one["errors"], "2": two["errors"]},
                    **cpu_budget(one, two),
                    "speedup": speedup,
                    "meets_target": speedup >= targets["two_workers_speedup_c32"]
                    and float(two["p99_ms"]) <= targets["p99_ms_c32"]
                    and two["errors"] == 0,
                }
            )
    return rows


def measure_setup(
    stores: str,
    assistants: list[str],
    workers: str | None,
    duration: float,
    levels: list[int],
    tools: bool,
    sqlite_reference: bool,
) -> dict[str, object]:
    """Every assistant on one store set-up, a fresh store per server run; the report."""
    setup = SETUPS[stores]
    runs: list[dict[str, Any]] = []
    for assistant in assistants:
        folder = prepare(assistant)
        for count in (workers or setup.workers).split(","):
            with store_setup(stores, folder) as project:
                run = run_server(
                    assistant, project, int(count), duration, levels, tools, setup.targets
                )
            runs.append(run)
        if stores != "sqlite" and sqlite_reference:
            # the same load on SQLite right after: the shared machine's load changes by the
            # minute, the ratio between the two says more than either number alone
            reference = run_server(assistant, folder, 2, duration, [32], False)
            runs[-1]["sqlite_reference_c32_same_conditions"] = {
                "workers": 2,
                "10_turns": reference["levels"][0],  # type: ignore[index]
                "growing": reference["growing_c32"],
            }
    report: dict[str, object] = {
        "benchmark": (
            f"parley run, {' and '.join(ASSISTANT_TITLES[a] for a in assistants)}, "
            f"REST channel, {setup.title}"
        ),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "duration_per_level_s": duration,
        "runs": runs,
        "scaling_c32": scaling(runs, setup.targets),
        "targets": setup.targets,
        "meets_targets": {
            f"{r['assistant']} workers={r['workers']}": r["meets_targets"] for r in runs
        },
        "load_generator": (
            "bench/load_gen.py (an asyncio protocol on keep-alive connections, own process; "
            "conversations of 10 turns, or one per user growing through the run)"
        ),
        "note": (
            "workers: server processes (`parley run --workers`); memory is the PSS summed over "
            "them (shared pages counted once), RSS per process is listed too. "
            "machine_load_avg_1m is the 2-core machine's load while the level ran (the load "
            "generator shares the cores); server_cpu_ms_per_msg is the CPU time of all server "
            "processes per message. shared_rest_load_c32_hello is ../shared/bench/rest_load.py "
            "(Rasa 3.6 measured 16.8 rps, p99 3.7 s with it). scaling_c32 compares 1 and 2 "
            "workers per assistant and conversation shape."
        ),
    }
    if stores != "sqlite":
        report["caveat"] = (
            "A machine_load_avg_1m above the 2 cores means other jobs shared the machine "
            "while this ran, and every rate is then far below a quiet machine's: compare "
            "with sqlite_reference_c32_same_conditions, measured right after under the same "
            "load. server_cpu_ms_per_msg leaves out PostgreSQL's and Redis's own CPU time."
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument(
        "--workers",
        help="server processes to measure, in turn (default: 2,1 on sqlite, 2 on postgres-redis)",
    )
    parser.add_argument("--assistants", default="demo,moodbot", help=", ".join(ASSISTANTS))
    parser.add_argument(
        "--stores", default="sqlite,postgres-redis", help=f"store set-ups: {', '.join(SETUPS)}"
    )
    parser.add_argument("--no-tools", action="store_true", help="skip the shared tools and wrk")
    parser.add_argument(
        "--no-sqlite-reference",
        action="store_true",
        help="do not measure SQLite (2 workers, c=32) right after postgres-redis",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder of the result files (bench/results)"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.levels.split(",")]
    assistants = args.assistants.split(",")
    for name in assistants:
        if name not in ASSISTANTS:
            parser.error(f"--assistants: unknown {name!r}; known: {', '.join(ASSISTANTS)}")
    stores_list = args.stores.split(",")
    for stores in stores_list:
        if stores not in SETUPS:
            parser.error(f"--stores: unknown {stores!r}; known: {', '.join(SETUPS)}")
    for stores in stores_list:
        report = measure_setup(
            stores,
            assistants,
            args.workers,
            args.duration,
            levels,
            not args.no_tools,
            not args.no_sqlite_reference,
        )
        print(json.dumps(report, indent=2))
        if not args.no_write:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / SETUPS[stores].file_name).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
