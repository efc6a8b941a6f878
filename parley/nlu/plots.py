"""PNG plots of an NLU evaluation: intent confusion matrix and confidence histogram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global backend or figure state to change
from sklearn.metrics import confusion_matrix


def plot_confusion_matrix(gold: list[str], predicted: list[str], path: Path) -> None:
    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = max(6.0, 0.18 * len(labels) + 3)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=max(4, 10 - len(labels) // 10))
    ax.set_yticks(range(len(labels)), labels, fontsize=max(4, 10 - len(labels) // 10))
    if len(labels) <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    accuracy = float(np.trace(matrix) / matrix.sum()) if matrix.sum() else 0.0
    ax.set_title(f"Intent confusion matrix (accuracy {accuracy:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_confidence_histogram(
    gold: list[str], predicted: list[str], confidences: list[float], path: Path
) -> None:
    right = [c for g, p, c in zip(gold, predicted, confidences, strict=True) if g == p]
    wrong = [c for g, p, c in zip(gold, predicted, confidences, strict=True) if g != p]
    bins = [i / 20 for i in range(21)]
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    ax.hist([right, wrong], bins=bins, label=["correct", "wrong"], color=["#3a7", "#c44"])
    ax.set_yscale("log")
    ax.set_xlabel("confidence of the predicted intent")
    ax.set_ylabel("messages (log scale)")
    ax.set_title("Intent prediction confidence")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
