"""Dialogue engine benchmark: training time and turn latency through the Agent.

For each example project (moodbot, helpdesk with its localmode actions in-process) it trains the
dialogue part, then replays a scripted conversation many times through `Agent.handle_message`
with in-memory stores and `/intent` messages (no NLU: the engine alone is measured). Writes
bench/results/dialogue.json.

    python bench/dialogue_bench.py [--conversations 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sklearn.linear_model  # noqa: E402, F401  (imported up front: not part of training time)

from parley.agent import Agent  # noqa: E402
from parley.dialogue.model import DialogueModel  # noqa: E402
from parley.project import load_project  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.dialogue.helpdesk_actions import HelpdeskActions  # noqa: E402

SCRIPTS = {
    "moodbot": ["/greet", "/mood_unhappy", "/deny", "/bot_challenge", "/goodbye"],
    "helpdesk": [
        "/greet",
        "/password_reset",
        '/inform{"email": "ann@example.com"}',
        "/help",
        '/inform{"priority": "high"}',
        "my password expired",
        "/affirm",
        "/incident_status",
        "/affirm",
    ],
}


async def _run(name: str, conversations: int) -> dict[str, Any]:
    project = load_project(EXAMPLES / name)
    started = time.perf_counter()
    model = DialogueModel.train(project)
    training = time.perf_counter() - started
    runner = HelpdeskActions() if name == "helpdesk" else None
    agent = Agent(model, action_runner=runner)
    latencies: list[float] = []
    started = time.perf_counter()
    for index in range(conversations):
        for text in SCRIPTS[name]:
            before = time.perf_counter()
            await agent.handle_message(f"{name}-{index}", text)
            latencies.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "training_seconds": round(training, 3),
        "turns": len(latencies),
        "turns_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()
    results = {name: asyncio.run(_run(name, args.conversations)) for name in SCRIPTS}
    payload = {
        "benchmark": "dialogue",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "conversations": args.conversations,
        "results": results,
    }
    out = REPO / "bench" / "results" / "dialogue.json"
    out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
