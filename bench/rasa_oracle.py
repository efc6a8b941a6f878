"""Rasa 3.6.21 as an oracle: its outcome on the shared examples' training data and on
tests/compat/projects, recorded as data in bench/results/rasa_oracle.json.

Rasa is never a dependency of Parley: install it beside the project, e.g.

    ~/.pyenv/versions/3.10*/bin/python -m venv /work/rasa-oracle
    /work/rasa-oracle/bin/pip install rasa==3.6.21
    python bench/rasa_oracle.py --rasa /work/rasa-oracle/bin/rasa [--work /tmp/oracle]

For each example it runs `rasa train --skip-validation` and `rasa test core --stories data`
(every training story replayed; Rasa skips rules there); for each minimal
project `rasa test core --e2e --stories tests` (NLU included, as `parley test`). Projects already
run in `--work` (a `results_*/story_report.json` present) are only collected. Slow: Rasa trains
TensorFlow models (minutes per project).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import EXAMPLES  # noqa: E402

PROJECTS = REPO / "tests" / "compat" / "projects"
# not runnable here: spaCy's en_core_web_md and BERT weights cannot be downloaded
SKIPPED = {"reminderbot": "needs spaCy en_core_web_md", "e2ebot": "needs BERT weights"}


def _run(rasa: str, folder: Path, stories: str, out: str, e2e: bool) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
    model = folder / "models" / "m.tar.gz"
    if not model.is_file():
        subprocess.run(
            [rasa, "train", "--skip-validation", "--fixed-model-name", "m"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
    command = [rasa, "test", "core", "--stories", stories, "--model", str(model), "--out", out]
    subprocess.run([*command, *(["--e2e"] if e2e else [])], cwd=folder, env=env, check=True)


def _collect(report: Path) -> dict[str, Any]:
    data = json.loads(report.read_text("utf-8"))
    accuracy = data["conversation_accuracy"]
    failed_file = yaml.safe_load((report.parent / "failed_test_stories.yml").read_text()) or {}
    # Rasa names a failed story `name (file)`
    names = [str(s["story"]).rsplit(" (", 1)[0] for s in failed_file.get("stories") or []]
    return {"passed": accuracy["correct"], "total": accuracy["total"], "failed": sorted(names)}


def _project(
    rasa: str, source: Path, work: Path, stories: str, e2e: bool, collect_only: bool
) -> dict[str, Any]:
    folder = work / source.name
    out = f"results_{stories}"
    report = folder / out / "story_report.json"
    if not report.is_file():
        if collect_only:
            return {"skipped": "not run"}
        if not folder.is_dir():
            shutil.copytree(source, folder)
        _run(rasa, folder, stories, out, e2e)
    return _collect(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa", required=True, help="The rasa executable of a Rasa 3.6 venv.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rasa-oracle-work"))
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/rasa_oracle.json")
    parser.add_argument(
        "--collect-only", action="store_true", help="Only read results already in --work."
    )
    args = parser.parse_args()
    version = subprocess.run(
        [args.rasa, "--version"], capture_output=True, text=True, check=False
    ).stdout
    bots: dict[str, Any] = {}
    for source in sorted(p for p in EXAMPLES.iterdir() if (p / "domain.yml").is_file()):
        if source.name in SKIPPED:
            bots[source.name] = {"skipped": SKIPPED[source.name]}
            continue
        bots[source.name] = {
            "training_stories": _project(
                args.rasa, source, args.work, "data", False, args.collect_only
            )
        }
    projects = {
        source.name: _project(
            args.rasa, source, args.work / "projects", "tests", True, args.collect_only
        )
        for source in sorted(PROJECTS.iterdir())
    }
    payload = {
        "oracle": "Rasa Open Source, run locally (never a Parley dependency)",
        "rasa_version": next(
            (line.split()[-1] for line in version.splitlines() if line.startswith("Rasa Version")),
            "unknown",
        ),
        "how": "rasa train --skip-validation; examples: rasa test core --stories data; "
        "tests/compat/projects: rasa test core --e2e --stories tests",
        "bots": bots,
        "projects": projects,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
