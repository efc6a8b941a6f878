"""Which score tells known-intent messages from unknown ones? (docs/nlu.md, "Confidence")

HWU64's train split only: a seeded 75 % of the intents are known; the default pipeline (no
FallbackClassifier) trains on four fifths of their messages; the other fifth is in domain, the
unknown intents' messages out of scope. Prints AUROC and out-of-scope recall where in-domain
accuracy drops 1 and 2 points, for each candidate score.

`python bench/experiments/oos_scores.py [--seed 0]` (about a minute)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nlu_bench import DATASETS, pipeline_components  # noqa: E402
from parley.nlu.component import message_features  # noqa: E402
from parley.nlu.in_domain import margins, softmax  # noqa: E402
from parley.nlu.pipeline import Pipeline  # noqa: E402
from parley.nlu.static_vectors import shared_vectors  # noqa: E402
from parley.project.config import ProjectConfig  # noqa: E402
from parley.project.loader import load_nlu_data  # noqa: E402
from parley.project.nlu_data import NLUData  # noqa: E402


def unit(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9))


def recall_at_loss(known: np.ndarray, right: np.ndarray, z: np.ndarray, loss: float) -> float:
    base = right.sum() / known.sum()
    best = 0.0
    for t in np.unique(z):
        if (right & (z >= t)).sum() / known.sum() >= base - loss:
            best = max(best, float((~known & (z < t)).sum() / (~known).sum()))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train = load_nlu_data([DATASETS / "hwu64" / "train.yml"])
    intents = sorted({e.base_intent for e in train.examples})
    rng = np.random.default_rng(args.seed)
    known_intents = set(rng.choice(intents, size=round(0.75 * len(intents)), replace=False))
    own = [e for e in train.examples if e.base_intent in known_intents]
    order = rng.permutation(len(own))
    cut = len(own) // 5
    fit = [own[i] for i in order[cut:]]
    held = [own[i] for i in order[:cut]]
    held += [e for e in train.examples if e.base_intent not in known_intents]
    config = ProjectConfig(pipeline=pipeline_components("default"))
    pipeline = Pipeline.train(config, NLUData(tuple(fit)))
    classifier = next(c for c in pipeline.components if c.kind == "linear_intent")
    model = classifier.model  # type: ignore[attr-defined]
    table = shared_vectors()
    fit_vectors = table.vectors([e.text for e in fit])
    fit_labels = np.array([model.labels.index(e.base_intent) for e in fit])
    scores, vectors = [], []
    for example in held:
        message = pipeline.process(example.text)
        features = message_features(message, classifier.sparse_size)
        scores.append(model.scores(*features, message.static))
        vectors.append(table.vector(example.text))
    s, v = np.array(scores), np.array(vectors)
    known = np.array([e.base_intent in known_intents for e in held])
    predicted = s.argmax(axis=1)
    names = [model.labels[p] for p in predicted]
    right = known & np.array([n == e.base_intent for n, e in zip(names, held, strict=True)])
    top = softmax(s, model.temperature).max(axis=1)
    margin = margins(s)
    mean = fit_vectors.mean(axis=0)
    similarity = unit(v - mean) @ unit(fit_vectors - mean).T
    nearest = np.array([similarity[i, fit_labels == p].max() for i, p in enumerate(predicted)])
    candidates = {
        "softmax top": top,
        "margin": margin,
        "nearest example of the predicted intent": nearest,
        "nearest example of any intent": similarity.max(axis=1),
        "top + nearest": top + nearest,
        "top + nearest + 0.3 margin": top + nearest + 0.3 * margin,
        "margin + 3.7 nearest": margin + 3.7 * nearest,
    }
    print(f"known accuracy {right.sum() / known.sum():.4f}; {known.sum()} in, {(~known).sum()} out")
    for name, z in candidates.items():
        print(
            f"{name:42s} AUROC {roc_auc_score(known, z):.4f}"
            f"  recall@1pt {recall_at_loss(known, right, z, 0.01):.4f}"
            f"  recall@2pt {recall_at_loss(known, right, z, 0.02):.4f}"
        )


if __name__ == "__main__":
    main()
