"""Rasa compatibility check (`make compat`): every shared example assistant, unchanged.

For each assistant in ../shared/examples (copied to a temporary folder; the shared folder is
read-only) it trains a model with Parley as it is, then:

- replays its test stories (`parley test`, Rasa's `rasa test core --stories tests/` semantics);
- replays every training story as a test (`rasa test core --stories data/`) and every rule
  (which Rasa's command skips) from its condition;
- runs its test stories live (`parley test --live`), with its custom actions reimplemented in
  parley.sdk from its README (tests/compat/actions/<bot>.py; helpdesk: tests/dialogue).

It writes bench/results/compat.json: passed/total per assistant beside Rasa 3.6.21's figure on
the same stories (test stories: ../shared/examples/README.md; training data: the oracle's
bench/results/rasa_oracle.json when it was recorded), and the overall share.

    python bench/compat.py [--only formbot] [--out bench/results/compat.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parley.action_runners.inprocess import InProcessActionRunner  # noqa: E402
from parley.agent import Agent  # noqa: E402
from parley.dialogue.custom import CustomActionRunner  # noqa: E402
from parley.project import load_project  # noqa: E402
from parley.project.loader import load_rules, load_stories  # noqa: E402
from parley.testing import StoryResult, run_stories, run_stories_live  # noqa: E402
from parley.training import train_project  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.dialogue.helpdesk_actions import HelpdeskActions  # noqa: E402

# Rasa 3.6.21 on each assistant's test stories (../shared/examples/README.md), None: not run
RASA_TEST_STORIES: dict[str, tuple[int, int] | None] = {
    "moodbot": (7, 7),
    "helpdesk": (12, 12),
    "formbot": (3, 3),
    "responseselectorbot": (1, 2),
    "reminderbot": None,
    "concertbot": None,
    "e2ebot": None,
}
ORACLE = REPO / "bench" / "results" / "rasa_oracle.json"
ACTION_MODULES = {
    "formbot": "tests.compat.actions.formbot",
    "concertbot": "tests.compat.actions.concertbot",
    "reminderbot": "tests.compat.actions.reminderbot",
}


def _runner(bot: str) -> CustomActionRunner | None:
    if bot == "helpdesk":
        return HelpdeskActions()
    module = ACTION_MODULES.get(bot)
    return InProcessActionRunner.from_module(module) if module else None


def _score(results: list[StoryResult]) -> dict[str, Any]:
    return {
        "passed": sum(r.passed for r in results),
        "total": len(results),
        "failed": sorted({r.case.name for r in results if not r.passed}),
    }


def _oracle(bot: str) -> dict[str, Any]:
    if not ORACLE.is_file():
        return {}
    figures: dict[str, Any] = json.loads(ORACLE.read_text("utf-8")).get("bots", {})
    return dict(figures.get(bot) or {})


async def _check(bot: str, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        project = load_project(folder)
        model = train_project(project, folder / "models").model
    except Exception as exc:  # any failure to train is the finding
        return {"trained": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    out["trained"] = True
    out["training_seconds"] = round(time.perf_counter() - started, 1)
    oracle = _oracle(bot)
    tests = folder / "tests"
    agent = Agent.load(model)
    try:
        if tests.is_dir():
            out["test_stories"] = _score(await run_stories(agent, load_stories([tests])))
            rasa = RASA_TEST_STORIES.get(bot)
            if rasa is not None:
                out["test_stories"]["rasa"] = {"passed": rasa[0], "total": rasa[1]}
        data = [folder / "data"]
        out["training_stories"] = _score(await run_stories(agent, load_stories(data)))
        rasa_figure = oracle.get("training_stories") or {}
        if "passed" in rasa_figure:
            out["training_stories"]["rasa"] = rasa_figure
        # `rasa test core --stories data/` skips rules (generate_story_trackers); Parley
        # replays them too, from their condition
        out["rules"] = _score(await run_stories(agent, (), load_rules(data)))
    finally:
        await agent.close()
    if tests.is_dir():
        runner = _runner(bot)
        live_agent = Agent.load(model, action_runner=runner)
        try:
            out["live_test_stories"] = _score(
                await run_stories_live(live_agent, load_stories([tests]))
            )
        finally:
            if runner is not None:
                await runner.close()
            await live_agent.close()
    return out


def _passes(entry: dict[str, Any]) -> bool:
    """At least Rasa's figure on every comparable set."""
    if not entry.get("trained"):
        return False
    for key in ("test_stories", "training_stories"):
        score = entry.get(key)
        if score and score.get("rasa") and score["passed"] < score["rasa"]["passed"]:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="Check only this assistant.")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "compat.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bots = args.only or sorted(p.name for p in EXAMPLES.iterdir() if (p / "domain.yml").is_file())
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="parley-compat-") as tmp:
        for bot in bots:
            folder = Path(tmp) / bot
            shutil.copytree(EXAMPLES / bot, folder)
            results[bot] = asyncio.run(_check(bot, folder))
            results[bot]["at_least_rasa"] = _passes(results[bot])
            print(bot, json.dumps(results[bot]), flush=True)
    scored = [
        results[b][k]
        for b in results
        for k in ("test_stories", "training_stories", "rules")
        if k in results[b]
    ]
    passed, total = sum(s["passed"] for s in scored), sum(s["total"] for s in scored)
    payload = {
        "benchmark": "compat",
        "note": "Rasa figures for test stories: ../shared/examples/README.md; for training "
        "stories: bench/results/rasa_oracle.json (Rasa 3.6.21 run locally; its `rasa test "
        "core --stories data` does not replay rules, so rules have no Rasa figure)",
        "bots": results,
        "overall": {
            "passed": passed,
            "total": total,
            "share": round(passed / total, 4) if total else None,
            "every_bot_trains_and_at_least_rasa": all(r["at_least_rasa"] for r in results.values()),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    print(json.dumps(payload["overall"], indent=2))


if __name__ == "__main__":
    main()
