"""Start-up benchmark: how long `parley --version` takes as a whole process, and how big the
runtime install is. Writes bench/results/start.json.

    python bench/start_bench.py                 # --version only (a few seconds)
    python bench/start_bench.py --install-size  # also build a fresh venv (minutes, network)

Targets: `parley --version` <= 0.3 s; runtime install (no extras) <= 450 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from install_size import measure_install

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "start.json"
TARGETS = {"version_s": 0.3, "install_mb": 450}


def time_command(command: list[str], runs: int) -> dict[str, float]:
    """Median wall and CPU seconds of `command` over `runs` runs, after one warm-up."""
    subprocess.run(command, check=True, capture_output=True)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "runs": runs,
        "wall_s_median": round(statistics.median(walls), 3),
        "wall_s_min": round(min(walls), 3),
        "cpu_s_median": round(statistics.median(cpus), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=9)
    parser.add_argument("--install-size", action="store_true", help="Build a fresh venv too.")
    args = parser.parse_args()
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    parley = str(Path(sys.executable).parent / "parley")
    result: dict[str, object] = {
        "benchmark": "parley start-up and runtime install size",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_avg_1m": os.getloadavg()[0],
        "targets": TARGETS,
        "version": time_command([parley, "--version"], args.runs),
        # the floor on this machine now: the interpreter's own start
        "python_baseline": time_command([sys.executable, "-c", "pass"], args.runs),
        "install": measure_install(REPO) if args.install_size else previous.get("install"),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
