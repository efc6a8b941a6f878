"""Collect the `--out` JSON files of the open-intent experiments into one report and a plot.

`python bench/experiments/oos_cv_summary.py NAME=FILE ... [--output bench/results/nlu_oos_cv.json]`
e.g. `encoder=/tmp/encoder.json meta=/tmp/meta.json ceiling=/tmp/ceiling.json`; the plot
(AUROC and recall@1pt of every score of the first input's split, the targets as lines) goes to
`bench/results/nlu/oos-cv.png`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TARGET_AUROC = 0.93
TARGET_RECALL = 0.65


def plot(rows: list[tuple[str, dict[str, float]]], split: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r[1]["auroc"])
    figure, axes = plt.subplots(1, 2, figsize=(11, 0.28 * len(rows) + 1.5), sharey=True)
    names = [name for name, _ in rows]
    for ax, key, target in (
        (axes[0], "auroc", TARGET_AUROC),
        (axes[1], "recall@1pt", TARGET_RECALL),
    ):
        ax.barh(names, [r[key] for _, r in rows], color="tab:blue")
        ax.axvline(target, color="tab:red", linestyle="--", label=f"target {target}")
        ax.set_xlabel(key)
        ax.legend(loc="lower right", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_xlim(0.7, 1.0)
    axes[1].set_xlim(0.0, 0.7)
    axes[0].tick_params(axis="y", labelsize=7)
    figure.suptitle(f"train-split CV {split} (dataset-known fraction-seed): known vs unknown")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", nargs="+", help="NAME=FILE")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "nlu_oos_cv.json"))
    args = parser.parse_args()
    report: dict[str, Any] = {
        "targets": {"auroc": TARGET_AUROC, "recall@1pt": TARGET_RECALL},
        "protocol": "HWU64 train split only; docs/nlu.md 'Second round'",
    }
    rows: list[tuple[str, dict[str, float]]] = []
    first_split = ""
    plotted: set[tuple[str, float, float]] = set()
    for item in args.inputs:
        name, file = item.split("=", 1)
        data = json.loads(Path(file).read_text())
        report[name] = data
        first_split = first_split or data["split"]
        if data["split"] != first_split:
            continue  # the plot shows the first input's split
        for table in ("scores", "ceiling"):
            for score, figures in data.get(table, {}).items():
                prefix = "ceiling: " if table == "ceiling" else f"{name}: "
                key = (score, figures["auroc"], figures["recall@1pt"])
                if key not in plotted:  # a baseline repeated by several experiments: once
                    plotted.add(key)
                    rows.append((prefix + score, figures))
    Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    plot(rows, first_split, ROOT / "bench" / "results" / "nlu" / "oos-cv.png")


if __name__ == "__main__":
    main()
