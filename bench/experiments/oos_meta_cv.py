"""Outlier exposure from the training data itself: a meta-classifier over cheap features.

Same outer protocol as `oos_scores.py` / `oos_encoder_cv.py` (HWU64 train split only; known
intents' held-out fifth in domain, the other intents' messages out of scope). Inside the fit
messages only, the known intents are cut into `--folds` groups; for each group the default
pipeline is trained on the other groups' messages (four fifths of them), and the features of
the remaining fifth (pseudo in domain) and of the group's messages (pseudo out of scope) are
computed. A logistic regression and a gradient-boosted tree model learn in/out from those, and
are then applied to the features of the outer held-out messages under the pipeline trained on
all fit messages. Features: softmax top, margin, energy, top raw score, entropy; nearest /
k-NN / centroid cosine in the static-vector space (of the predicted intent and of any) and in a
TF-IDF space; share of the message's words seen among the predicted intent's examples and in
training; length.

`python bench/experiments/oos_meta_cv.py [--seed 0] [--fraction 0.75] [--folds 4]`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from oos_encoder_cv import cached, make_split, rank, report, unit

FEATURES = (
    "softmax top", "margin", "energy", "top raw", "entropy",
    "static nearest predicted", "static nearest any", "static knn5 predicted",
    "static centroid predicted", "tfidf nearest predicted", "tfidf nearest any",
    "tfidf knn5 predicted", "words seen in predicted intent", "words seen in training",
    "length",
)  # fmt: skip


def features(
    train_texts: list[str], train_y: np.ndarray, labels: list[str], texts: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Train the default pipeline on (train_texts, train_y); features and predicted class index
    (in `labels` order) of `texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bench.nlu_bench import pipeline_components
    from parley.nlu.component import message_features
    from parley.nlu.in_domain import margins, softmax, words_of
    from parley.nlu.pipeline import Pipeline
    from parley.nlu.static_vectors import shared_vectors
    from parley.project.config import ProjectConfig
    from parley.project.nlu_data import NLUData, NLUExample

    examples = tuple(
        NLUExample(text=t, intent=labels[y]) for t, y in zip(train_texts, train_y, strict=True)
    )
    pipeline = Pipeline.train(
        ProjectConfig(pipeline=pipeline_components("default")), NLUData(examples)
    )
    classifier = next(c for c in pipeline.components if c.kind == "linear_intent")
    model = classifier.model  # type: ignore[attr-defined]
    order = [model.labels.index(name) for name in labels]
    s = []
    for text in texts:
        message = pipeline.process(text)
        s.append(
            model.scores(*message_features(message, classifier.sparse_size), message.static)[order]
        )
    scores = np.array(s)
    t = model.temperature
    probs = softmax(scores, t)
    predicted = scores.argmax(axis=1)
    z = scores / t
    energy = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1)
    entropy = -(probs * np.log(probs + 1e-12)).sum(axis=1)
    table = shared_vectors()
    columns = [probs.max(axis=1), margins(scores), energy, scores.max(axis=1), entropy]
    fit_v, v = table.vectors(train_texts), table.vectors(texts)
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    fit_x = tfidf.fit_transform(train_texts)
    x = tfidf.transform(texts)
    for space, (a, b) in (("static", (fit_v, v)), ("tfidf", (fit_x, x))):
        if space == "static":
            mean = a.mean(axis=0)
            sim = unit(b - mean) @ unit(a - mean).T
        else:
            sim = np.asarray((x @ fit_x.T).todense())
        nearest_pred = np.array([sim[i, train_y == p].max() for i, p in enumerate(predicted)])
        knn_pred = np.array(
            [np.sort(sim[i, train_y == p])[-5:].mean() for i, p in enumerate(predicted)]
        )
        columns += [nearest_pred, sim.max(axis=1), knn_pred]
        if space == "static":
            centroids = unit(
                np.stack([unit(a[train_y == c] - mean).mean(axis=0) for c in range(len(labels))])
            )
            b_unit = unit(b - mean)
            columns.append((b_unit * centroids[predicted]).sum(axis=1))
    intent_words = [set() for _ in labels]  # type: list[set[str]]
    for text, y in zip(train_texts, train_y, strict=True):
        intent_words[y].update(words_of(text))
    all_words = set().union(*intent_words)
    seen_pred, seen_all, length = [], [], []
    for text, p in zip(texts, predicted, strict=True):
        w = words_of(text) or [""]
        seen_pred.append(np.mean([x in intent_words[p] for x in w]))
        seen_all.append(np.mean([x in all_words for x in w]))
        length.append(len(w))
    columns += [np.array(seen_pred), np.array(seen_all), np.log(np.array(length))]
    return np.stack(columns, axis=1), predicted


def pseudo_oos(
    texts: list[str], y: np.ndarray, labels: list[str], folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-intents-out features of the fit messages: (features, is in domain)."""
    rng = np.random.default_rng(seed + 1000)
    group = rng.permutation(len(labels)) % folds
    xs, ins = [], []
    for g in range(folds):
        inner = np.flatnonzero(group[y] != g)
        out = np.flatnonzero(group[y] == g)
        rng.shuffle(inner)
        cut = len(inner) // 5
        train_rows, held_rows = inner[cut:], inner[:cut]
        kept = [c for c in range(len(labels)) if group[c] != g]
        remap = {c: i for i, c in enumerate(kept)}
        sub_labels = [labels[c] for c in kept]
        rows = np.concatenate([held_rows, out])
        x, _ = features(
            [texts[i] for i in train_rows],
            np.array([remap[c] for c in y[train_rows]]),
            sub_labels,
            [texts[i] for i in rows],
        )
        xs.append(x)
        ins.append(np.r_[np.ones(len(held_rows), bool), np.zeros(len(out), bool)])
        print(f"  fold {g + 1}/{folds}: {len(held_rows)} in, {len(out)} out", flush=True)
    return np.vstack(xs), np.concatenate(ins)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="hwu64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.75)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--out", default="", help="write the figures to this JSON file")
    args = parser.parse_args()
    tag = f"{args.dataset}-{args.fraction}-{args.seed}"
    split = make_split(args.dataset, args.fraction, args.seed)

    def outer() -> dict[str, np.ndarray]:
        x, p = features(split.fit_texts, split.fit_labels, split.labels, split.held_texts)
        return {"x": x, "predicted": p}

    def inner() -> dict[str, np.ndarray]:
        x, ins = pseudo_oos(split.fit_texts, split.fit_labels, split.labels, args.folds, args.seed)
        return {"x": x, "inside": ins}

    held = cached(f"meta-outer-{tag}", outer)
    train = cached(f"meta-inner-{tag}-f{args.folds}", inner)
    known = split.known
    right = known & (np.array(split.labels)[held["predicted"]] == np.array(split.held_gold))
    print(
        f"{tag}: pipeline accuracy {right.sum() / known.sum():.4f};"
        f" meta-training rows {len(train['x'])} ({train['inside'].mean():.2f} in)"
    )
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows: dict[str, dict[str, float]] = {}
    for i, name in enumerate(FEATURES):
        print(
            f"  {name:34s} inner AUROC {roc_auc_score(train['inside'], train['x'][:, i]):.4f}",
            end="  ",
        )
        rows[name] = report("", held["x"][:, i], known, right)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    logistic.fit(train["x"], train["inside"])
    z_log = logistic.decision_function(held["x"])
    rows["meta logistic"] = report("meta logistic", z_log, known, right)
    trees = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
    trees.fit(train["x"], train["inside"])
    z_gb = trees.predict_proba(held["x"])[:, 1]
    rows["meta boosted trees"] = report("meta boosted trees", z_gb, known, right)
    both = rank(z_log) + rank(z_gb)
    rows["rank logistic + trees"] = report("rank logistic + trees", both, known, right)
    coefficients = logistic[-1].coef_[0]
    for name, c in sorted(zip(FEATURES, coefficients, strict=True), key=lambda t: -abs(t[1])):
        print(f"    {name:34s} {c:+.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"split": tag, "scores": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
