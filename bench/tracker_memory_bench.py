"""Memory and cyclic-GC cost of the tracker cache, in one process, as a serving process runs.

32 conversations (by default) of the demo help-desk assistant or moodbot take turns in round
robin through `Agent.handle_message` (real NLU, the SQLite tracker store in a temporary folder,
the server's GC thresholds and its model frozen out of the collector, as `parley run` does), each
growing to `--turns` turns, like `make bench-server`'s growing shape. At each checkpoint it
records: the process's RSS and PSS, the events the tracker cache holds, the objects the cyclic
collector tracks, how long a full collection takes over them (the pause a request sees when one
runs under load), the turns' latency and CPU time since the previous checkpoint, and the longest collection
of each generation the run saw (gc.callbacks).

    python bench/tracker_memory_bench.py                      # demo, 32 x 300 and 1,500 turns
    python bench/tracker_memory_bench.py --assistant moodbot --checkpoints 300,1500,2000
    python bench/tracker_memory_bench.py --out bench/results/tracker_memory.json

The model is trained (`parley train`) under build/bench-<assistant>, as bench/server_bench.py
does. Timings depend on the machine's load: the 1-minute load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load_gen import SCRIPTS  # noqa: E402
from bench.server_bench import ASSISTANTS, prepare  # noqa: E402
from parley.agent import Agent  # noqa: E402
from parley.server.process import freeze_loaded, tune_gc  # noqa: E402
from parley.stores.sql import SQLTrackerStore  # noqa: E402
from parley.stores.sql_engine import SQLSettings  # noqa: E402


class CollectionTimes:
    """The longest collection of each generation since `reset` (gc.callbacks)."""

    def __init__(self) -> None:
        self.longest: dict[int, float] = {}
        self.counts: dict[int, int] = {}
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        elapsed = (time.perf_counter() - self._started) * 1000
        self.longest[generation] = max(self.longest.get(generation, 0.0), elapsed)
        self.counts[generation] = self.counts.get(generation, 0) + 1

    def reset(self) -> dict[str, object]:
        seen = {
            f"gen{g}": {"count": self.counts[g], "longest_ms": round(self.longest[g], 1)}
            for g in sorted(self.counts)
        }
        self.longest, self.counts = {}, {}
        return seen

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def memory_mb() -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            fields[name.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return fields


def full_collection_ms(repeat: int = 3) -> float:
    """The median time of a full collection over what the collector tracks now."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


async def measure(
    assistant: str, conversations: int, checkpoints: list[int], cache_events: int | None
) -> dict[str, Any]:
    folder = prepare(assistant)
    model = max((folder / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    texts = SCRIPTS[ASSISTANTS[assistant]]
    with tempfile.TemporaryDirectory(prefix="parley-tracker-memory-") as tmp:
        store = await SQLTrackerStore.open(SQLSettings(), Path(tmp))
        agent = Agent.load(model, tracker_store=store)
        if cache_events is not None:
            agent.trackers.max_events = cache_events
        await agent.handle_message("warm-up", texts[0])  # NLU and policies loaded once
        agent.trackers.clear()
        tune_gc()
        freeze_loaded()  # what `parley run` does once the model is loaded
        baseline = {**memory_mb(), "gc_tracked_objects": len(gc.get_objects())}
        collections = CollectionTimes()
        rows: list[dict[str, Any]] = []
        turn = 0
        try:
            for checkpoint in checkpoints:
                latencies: list[float] = []
                cpu_started, turns_started = time.process_time(), turn
                while turn < checkpoint:
                    text = texts[turn % len(texts)]
                    for index in range(conversations):
                        started = time.perf_counter()
                        await agent.handle_message(f"conversation-{index}", text)
                        latencies.append(time.perf_counter() - started)
                    turn += 1
                cpu_ms = (time.process_time() - cpu_started) * 1000
                seen = collections.reset()
                ordered = sorted(latencies)
                rows.append(
                    {
                        "turns_per_conversation": turn,
                        **memory_mb(),
                        "cached_conversations": len(agent.trackers),
                        "cached_events": agent.trackers.events_held,
                        "gc_tracked_objects": len(gc.get_objects()),
                        "full_collection_ms": full_collection_ms(),
                        "collections_during_turns": seen,
                        "turn_ms": {
                            "mean": round(statistics.fmean(latencies) * 1000, 2),
                            "p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
                            "max": round(ordered[-1] * 1000, 1),
                        },
                        "cpu_ms_per_turn": round(
                            cpu_ms / ((turn - turns_started) * conversations), 3
                        ),
                        "machine_load_avg_1m": round(os.getloadavg()[0], 1),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
        finally:
            collections.close()
            await agent.close()
            await store.close()
    return {
        "assistant": assistant,
        "conversations": conversations,
        "cache_max_events": agent.trackers.max_events,
        "baseline": baseline,
        "checkpoints": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assistant", default="demo", choices=sorted(ASSISTANTS))
    parser.add_argument("--conversations", type=int, default=32)
    parser.add_argument("--checkpoints", default="300,1500", help="turns per conversation")
    parser.add_argument(
        "--cache-events", type=int, help="the cache's bound on events (default: the agent's)"
    )
    parser.add_argument("--label", default="", help="what this run measures (kept in --out)")
    parser.add_argument("--out", type=Path, help="add the run to this JSON file's runs")
    args = parser.parse_args()
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    run = asyncio.run(measure(args.assistant, args.conversations, checkpoints, args.cache_events))
    run = {
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        **run,
    }
    print(json.dumps(run, indent=2))
    if args.out is not None:
        report = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
        report["benchmark"] = "bench/tracker_memory_bench.py (in-process, SQLite store)"
        report["runs"].append(run)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
