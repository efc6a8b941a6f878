#!/usr/bin/env python3
"""The figures of a model's tests, and the check that a new model is not worse than production.

    python figures.py summarize results/ > figures.json
    python figures.py compare figures.json production-figures.json --tolerance 0.01

`summarize` reads the reports `parley test` and `parley test nlu` write (Rasa's formats:
story_report.json, intent_report.json, entity_report.json, each a scikit-learn classification
report, in the folder or its sub-folders) and prints each one's weighted-average F1.
`compare` exits 1, naming each figure, when one fell more than --tolerance below production's;
a figure production does not have passes. Standard library only: copy it into any repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPORTS = {
    "story_report.json": "stories_f1",
    "intent_report.json": "intent_f1",
    "entity_report.json": "entity_f1",
}


def summarize(results: Path) -> dict[str, float]:
    """{figure: weighted-average F1} for every report found under `results`."""
    figures: dict[str, float] = {}
    for file_name, figure in REPORTS.items():
        for path in sorted(results.rglob(file_name)):
            report = json.loads(path.read_text(encoding="utf-8"))
            average = report.get("weighted avg") or report.get("micro avg") or {}
            if "f1-score" not in average:
                raise SystemExit(f"{path}: no 'weighted avg' f1-score; is it a Rasa/Parley report?")
            key = figure if figure not in figures else f"{figure}:{path.parent.name}"
            figures[key] = round(float(average["f1-score"]), 4)
    if not figures:
        raise SystemExit(f"{results}: no story, intent or entity report found; run the tests first")
    return figures


def compare(current: dict[str, float], production: dict[str, float], tolerance: float) -> list[str]:
    """One line per figure that regressed by more than `tolerance`."""
    problems = []
    for figure, before in sorted(production.items()):
        now = current.get(figure)
        if now is None:
            problems.append(f"{figure}: production has {before:.4f}, this build has no figure")
        elif now < before - tolerance:
            problems.append(f"{figure}: {now:.4f} < production {before:.4f} - {tolerance:g}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summarize", help="print the figures of a results folder")
    summary.add_argument("results", type=Path)
    check = commands.add_parser("compare", help="fail when a figure regressed")
    check.add_argument("current", type=Path)
    check.add_argument("production", type=Path)
    check.add_argument("--tolerance", type=float, default=0.01)
    args = parser.parse_args(argv)
    if args.command == "summarize":
        print(json.dumps(summarize(args.results), indent=2, sort_keys=True))
        return 0
    current = json.loads(args.current.read_text(encoding="utf-8"))
    if not args.production.is_file():
        print(f"no production figures at {args.production}: nothing to compare (first model?)")
        return 0
    production = json.loads(args.production.read_text(encoding="utf-8"))
    problems = compare(current, production, args.tolerance)
    for line in problems:
        print(f"regression: {line}", file=sys.stderr)
    if not problems:
        print("no regression against production: " + json.dumps(current, sort_keys=True))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
