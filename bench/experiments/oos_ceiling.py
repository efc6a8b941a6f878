"""How far can any combination of the measured scores go? An optimistic ceiling.

Reads the cached outputs of `oos_meta_cv.py` and `oos_encoder_cv.py` for one split (run those
first) and learns known-vs-unknown from the outer held-out messages themselves: the rows are cut
by gold intent into 5 groups (GroupKFold), a model is fit on four groups' rows (real unknown
intents as negatives, which no assistant has) and scores the fifth. Reported per feature set:
AUROC and recall@1pt of the out-of-fold scores. It is a ceiling, not a method: a score of these
features that an assistant could compute from its own training data does no better.

`python bench/experiments/oos_ceiling.py [--seed 0] [--fraction 0.75] [--tuned NAME]`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oos_encoder_cv import CACHE, Split, knn_scores, make_split, report, unit
from oos_meta_cv import FEATURES


def out_of_fold(x: np.ndarray, inside: np.ndarray, groups: np.ndarray, trees: bool) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    z = np.zeros(len(x))
    for train, test in GroupKFold(n_splits=5).split(x, inside, groups):
        if trees:
            model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05)
            model.fit(x[train], inside[train])
            z[test] = model.predict_proba(x[test])[:, 1]
        else:
            linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
            linear.fit(x[train], inside[train])
            z[test] = linear.decision_function(x[test])
    return z


def scenario(intent: str) -> str:
    return intent.split("_", 1)[0]  # HWU64 intents are scenario_action (alarm_set)


def sibling_report(
    split: Split, z: np.ndarray, predicted: np.ndarray, known: np.ndarray, right: np.ndarray
) -> None:
    """Out-of-scope messages whose scenario has a known intent (siblings) vs the others."""
    from sklearn.metrics import roc_auc_score

    known_scenarios = {scenario(name) for name in split.labels}
    gold = np.array(split.held_gold)
    sibling = np.array([scenario(g) in known_scenarios for g in gold]) & ~known
    same = np.array(
        [scenario(split.labels[p]) == scenario(g) for p, g in zip(predicted, gold, strict=True)]
    )
    print(
        f"out of scope: {sibling.sum()} of {(~known).sum()} have a known sibling intent;"
        f" {(same & sibling).sum() / max(1, sibling.sum()):.2f} of those are predicted as one"
    )
    groups = (
        ("siblings", sibling),
        ("other scenarios", ~known & ~sibling),
        ("unknown ones predicted as a sibling", ~known & same),
        ("unknown ones predicted into another scenario", ~known & ~same),
    )
    for name, rows in groups:
        if rows.any():
            keep = known | rows
            auroc = roc_auc_score(known[keep], z[keep])
            print(f"  shipped score, in domain vs {name}: AUROC {auroc:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="hwu64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.75)
    parser.add_argument("--tuned", default="e3-s0.0-l2")
    parser.add_argument("--out", default="", help="write the figures to this JSON file")
    args = parser.parse_args()
    tag = f"{args.dataset}-{args.fraction}-{args.seed}"
    split = make_split(args.dataset, args.fraction, args.seed)
    base = dict(np.load(CACHE / f"pipeline-{tag}.npz"))
    meta = dict(np.load(CACHE / f"meta-outer-{tag}.npz"))
    predicted = base["scores"].argmax(axis=1)
    known = split.known
    right = known & (np.array(split.labels)[predicted] == np.array(split.held_gold))
    cheap = np.column_stack([meta["x"], base["parley"]])
    sets = {"cheap (15 meta features + shipped score)": cheap}
    tuned_path = CACHE / f"tuned-{tag}-{args.tuned}.npz"
    if tuned_path.is_file():
        t = dict(np.load(tuned_path))
        logits = 16.0 * unit(t["held"]) @ unit(t["head"]).T
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        knn = knn_scores(t["fit"], split.fit_labels, t["held"], predicted, "tuned")
        encoder = np.column_stack(
            [(e / e.sum(axis=1, keepdims=True)).max(axis=1), logits.max(axis=1), *knn.values()]
        )
        sets["fine-tuned encoder scores"] = encoder
        sets["cheap + fine-tuned encoder"] = np.column_stack([cheap, encoder])
    sibling_report(split, base["parley"], predicted, known, right)
    print(f"{tag}: {len(FEATURES) + 1} cheap features; groups = gold intents of held rows")
    groups = np.unique(np.array(split.held_gold), return_inverse=True)[1]
    rows = {}
    for name, x in sets.items():
        for trees in (False, True):
            z = out_of_fold(x, known, groups, trees)
            label = f"{name} {'trees' if trees else 'logistic'}"
            rows[label] = report(label, z, known, right)
    if args.out:
        Path(args.out).write_text(json.dumps({"split": tag, "ceiling": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
