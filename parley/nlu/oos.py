"""Out-of-scope figures: how well the top confidence separates known from unknown messages.

Used by `parley test nlu` (when the test data labels messages `out_of_scope` or `nlu_fallback`)
and by `bench/nlu_oos_bench.py`. A message falls back at threshold t when its confidence is
below t (or, with an ambiguity threshold, its top two are closer than that), as Rasa's
FallbackClassifier decides; a message predicted as an out-of-scope intent counts as detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

OOS_LABELS = frozenset({"out_of_scope", "nlu_fallback"})
CURVE_POINTS = 101


def _auroc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """Probability that a random known message scores above a random out-of-scope one."""
    if positive.all() or not positive.any():
        return None
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="mergesort")
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # ties share their mean rank
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def open_set_report(
    gold: Sequence[str | None],
    predicted: Sequence[str | None],
    confidence: Sequence[float],
    gap: Sequence[float],
    thresholds: Sequence[float] = (0.3, 0.7),
    ambiguity: float = 0.1,
    in_scope_loss: float = 0.01,
) -> dict[str, Any]:
    """`gold` is the intent, or None / an OOS label for an out-of-scope message; `predicted`
    the top intent before any fallback, `confidence` its confidence, `gap` to the second.

    Known accuracy counts a fallback as wrong. `at_loss` is the highest threshold at which
    known accuracy is at most `in_scope_loss` below its value without a threshold."""
    known = np.array([g is not None and g not in OOS_LABELS for g in gold])
    right = np.array([g == p for g, p in zip(gold, predicted, strict=True)]) & known
    flagged = np.array([p is None or p in OOS_LABELS for p in predicted])
    conf = np.asarray(confidence, dtype=float)
    gaps = np.asarray(gap, dtype=float)
    n_known, n_oos = int(known.sum()), int((~known).sum())

    def at(threshold: float, ambiguity_threshold: float) -> dict[str, float | None]:
        back = flagged | (conf < threshold) | (gaps < ambiguity_threshold)
        return {
            "threshold": round(threshold, 4),
            "known_accuracy": _ratio((right & ~back).sum(), n_known),
            "known_fallback_rate": _ratio((known & back).sum(), n_known),
            "oos_recall": _ratio((~known & back).sum(), n_oos),
        }

    base = _ratio((right & ~flagged).sum(), n_known)
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    # the grid plus the confidences' quantiles: steep confidences get points where they change
    points = np.unique(np.round(np.concatenate([grid, np.quantile(conf, grid)]), 4))
    curve = [at(float(t), 0.0) for t in points]
    floor = (base or 0.0) - in_scope_loss - 1e-9
    candidates = [c for c in curve if base is not None and (c["known_accuracy"] or 0.0) >= floor]
    return {
        "known_messages": n_known,
        "oos_messages": n_oos,
        # a message predicted out of scope scores lowest: it is already detected
        "auroc": _round(_auroc(known, np.where(flagged, -1.0, conf))),
        "known_accuracy": base,
        "at_threshold": {str(t): at(t, ambiguity) for t in thresholds},
        "in_scope_loss": in_scope_loss,
        "at_loss": candidates[-1] if candidates else None,
        "curve": curve,
    }


def _ratio(count: Any, total: int) -> float | None:
    return round(float(count) / total, 4) if total else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
