"""A linear classifier over sparse (+ dense) features with temperature-calibrated confidences.

Trained with scikit-learn's LinearSVC; what is kept is only the weight matrix, the bias and the
temperature, so parsing one message is a row gather and a small matrix product. Optionally the
scores of a kernel head over the message's static word vector (`kernel`) are added before the
softmax; the temperature is then fitted on the sum.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parley.nlu.in_domain import HeldOut, InDomainScore, rescale_ranking, softmax
from parley.nlu.kernel import KernelOptions, RandomFeatureRidge

if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

# Below this much data a held-out calibration split would be noise; a fixed temperature makes
# in-domain messages confident (as Rasa's DIET is) and mixed ones less so.
MIN_EXAMPLES_TO_CALIBRATE = 200
DEFAULT_TEMPERATURE = 0.25
SMALL_DATA_FOLDS = 5  # below MIN_EXAMPLES_TO_CALIBRATE, out-of-fold scores calibrate the scope


def _no_vocabulary(word: str) -> bool:
    return False


def _fit_svc(features: sparse.csr_matrix, labels: np.ndarray, c: float, seed: int) -> LinearSVC:
    from sklearn.svm import LinearSVC  # training only: serving a model never loads sklearn

    model = LinearSVC(C=c, random_state=seed, tol=1e-3, max_iter=2000)
    model.fit(features, labels)
    return model


def _decision(model: LinearSVC, features: sparse.csr_matrix) -> np.ndarray:
    scores = np.asarray(model.decision_function(features))
    if scores.ndim == 1:  # binary: one column, the second class's score
        scores = np.stack([-scores, scores], axis=1)
    return scores


def _fit_kernel(
    vectors: np.ndarray | None, y: np.ndarray, n_classes: int, options: KernelOptions | None
) -> RandomFeatureRidge | None:
    if vectors is None or options is None:
        return None
    return RandomFeatureRidge.train(vectors, y, n_classes, options)


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    def nll(temperature: float) -> float:
        probs = softmax(scores, temperature)
        return float(-np.mean(np.log(probs[np.arange(len(truth)), truth] + 1e-12)))

    from scipy.optimize import minimize_scalar

    result = minimize_scalar(nll, bounds=(0.01, 5.0), method="bounded")
    return float(result.x)


class LinearModel:
    """Weights (features x classes), bias and temperature; `labels` name the classes. With a
    `kernel`, its scores of the message's vector, times `kernel_weight`, are added."""

    def __init__(
        self,
        labels: list[str],
        weights: np.ndarray,
        bias: np.ndarray,
        temperature: float,
        kernel: RandomFeatureRidge | None = None,
        kernel_weight: float = 0.0,
        scope: InDomainScore | None = None,
    ) -> None:
        self.labels = labels
        self.weights = weights
        self.bias = bias
        self.temperature = temperature
        self.kernel = kernel
        self.kernel_weight = kernel_weight
        self.scope = scope

    @classmethod
    def train(
        cls,
        features: sparse.csr_matrix,
        labels: list[str],
        c: float = 1.0,
        seed: int = 0,
        calibrate: bool = True,
        vectors: np.ndarray | None = None,
        kernel: KernelOptions | None = None,
        scope_vectors: np.ndarray | None = None,
        words: frozenset[str] = frozenset(),
        topics: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> LinearModel:
        """Fit on all data; when there is enough, first fit the temperature on a held-out fifth.

        `vectors` (one unit vector per row) with `kernel` options add the kernel head.
        `scope_vectors` (static word vectors per row) add the in-domain confidence
        (`in_domain.InDomainScore`), calibrated on the held-out fifth or, on small data, on
        out-of-fold predictions; `words` are the training examples' words (its nonsense check),
        `topics` the rows' topic vectors and the background messages' (`background.py`)."""
        classes = sorted(set(labels))
        n_features = features.shape[1]
        if len(classes) < 2:
            return cls(
                classes,
                np.zeros((n_features, len(classes)), np.float32),
                np.zeros(len(classes), np.float32),
                DEFAULT_TEMPERATURE,
            )
        index = {name: i for i, name in enumerate(classes)}
        y = np.array([index[name] for name in labels])
        if kernel is None or kernel.features <= 0 or vectors is None:
            kernel = vectors = None
        temperature = DEFAULT_TEMPERATURE
        counts = np.bincount(y)
        held_out: HeldOut | None = None
        if calibrate and len(y) >= MIN_EXAMPLES_TO_CALIBRATE and counts.min() >= 2:
            # liblinear and numpy release the GIL: the calibration fit runs beside the final one
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(cls._held_out_scores, features, y, c, seed, vectors, kernel)
                model = _fit_svc(features, y, c, seed)
                head = _fit_kernel(vectors, y, len(classes), kernel)
                held_out = pending.result()
            if held_out is not None:
                temperature = _fit_temperature(held_out.scores, y[held_out.rows])
        else:
            model = _fit_svc(features, y, c, seed)
            head = _fit_kernel(vectors, y, len(classes), kernel)
            if scope_vectors is not None and calibrate:
                held_out = _out_of_fold_scores(features, y, c, seed, vectors, kernel)
        scope = (
            None
            if scope_vectors is None
            else InDomainScore.train(
                scope_vectors, y, len(classes), held_out, temperature, words, topics
            )
        )
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float32)
        if len(classes) == 2:
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        logger.debug("Linear model: %d classes, temperature %.3f", len(classes), temperature)
        return cls(
            classes,
            np.ascontiguousarray(coef.T),
            intercept,
            temperature,
            head,
            kernel.weight if kernel is not None else 0.0,
            scope,
        )

    @staticmethod
    def _held_out_scores(
        features: sparse.csr_matrix,
        y: np.ndarray,
        c: float,
        seed: int,
        vectors: np.ndarray | None,
        kernel: KernelOptions | None,
    ) -> HeldOut | None:
        """Scores of a stratified fifth by a model fit on the rest (None if a class is lost)."""
        rng = np.random.default_rng(seed)
        held = np.zeros(len(y), dtype=bool)
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            take = max(1, len(members) // 5)
            held[rng.choice(members, size=take, replace=False)] = True
        scores = _fold_scores(features, y, held, c, seed, vectors, kernel)
        return None if scores is None else HeldOut(np.flatnonzero(held), scores)

    def confidences(
        self,
        indices: np.ndarray,
        values: np.ndarray,
        vector: np.ndarray | None = None,
        scope_vector: np.ndarray | None = None,
        words: list[str] | None = None,
        vocabulary: Callable[[str], bool] | None = None,
        topic_vector: np.ndarray | None = None,
    ) -> np.ndarray:
        """Class probabilities; with an in-domain score and the message's static vector and
        words, the top class's is the in-domain confidence and the others share the rest."""
        scores = self.scores(indices, values, vector)
        probabilities = softmax(scores, self.temperature)
        if self.scope is None or scope_vector is None:
            return probabilities
        confidence = self.scope.confidence(
            scores,
            scope_vector,
            self.temperature,
            words or [],
            vocabulary or _no_vocabulary,
            topic_vector,
        )
        return rescale_ranking(probabilities, confidence)

    def scores(
        self, indices: np.ndarray, values: np.ndarray, vector: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw class scores of one message's features (the single-message path); `vector` is
        the message's static vector, used when the model has a kernel head."""
        linear = np.asarray(values @ self.weights[indices] + self.bias)
        if self.kernel is None or vector is None:
            return linear
        return np.asarray(linear + self.kernel_weight * self.kernel.scores(vector)[0])

    def probabilities(
        self, indices: np.ndarray, values: np.ndarray, vector: np.ndarray | None = None
    ) -> np.ndarray:
        return softmax(self.scores(indices, values, vector), self.temperature)

    def batch_probabilities(
        self, features: sparse.csr_matrix, vectors: np.ndarray | None = None
    ) -> np.ndarray:
        scores = np.asarray(features @ self.weights) + self.bias
        if self.kernel is not None and vectors is not None:
            scores = scores + self.kernel_weight * self.kernel.scores(vectors)
        return softmax(scores, self.temperature)

    def persist(self, folder: Path, prefix: str = "linear") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "labels": self.labels,
            "temperature": self.temperature,
            "kernel_weight": self.kernel_weight if self.kernel is not None else None,
        }
        (folder / f"{prefix}.json").write_text(json.dumps(meta, ensure_ascii=False))
        np.save(folder / f"{prefix}_weights.npy", self.weights)
        np.save(folder / f"{prefix}_bias.npy", self.bias)
        if self.kernel is not None:
            self.kernel.persist(folder, f"{prefix}_kernel")
        if self.scope is not None:
            self.scope.persist(folder, f"{prefix}_scope")

    @classmethod
    def load(cls, folder: Path, prefix: str = "linear") -> LinearModel:
        meta = json.loads((folder / f"{prefix}.json").read_text())
        kernel_weight = meta.get("kernel_weight")
        return cls(
            list(meta["labels"]),
            np.load(folder / f"{prefix}_weights.npy", allow_pickle=False),
            np.load(folder / f"{prefix}_bias.npy", allow_pickle=False),
            float(meta["temperature"]),
            None if kernel_weight is None else RandomFeatureRidge.load(folder, f"{prefix}_kernel"),
            float(kernel_weight or 0.0),
            InDomainScore.load(folder, f"{prefix}_scope"),
        )


def _fold_scores(
    features: sparse.csr_matrix,
    y: np.ndarray,
    held: np.ndarray,
    c: float,
    seed: int,
    vectors: np.ndarray | None,
    kernel: KernelOptions | None,
) -> np.ndarray | None:
    """Raw scores of the `held` rows by a model (+ kernel head) fit on the others."""
    n_classes = int(y.max()) + 1
    model = _fit_svc(features[~held], y[~held], c, seed)
    if len(model.classes_) != n_classes:
        return None
    scores = _decision(model, features[held])
    if vectors is not None and kernel is not None:
        head = RandomFeatureRidge.train(vectors[~held], y[~held], n_classes, kernel)
        scores = scores + kernel.weight * head.scores(vectors[held])
    return scores


def _out_of_fold_scores(
    features: sparse.csr_matrix,
    y: np.ndarray,
    c: float,
    seed: int,
    vectors: np.ndarray | None,
    kernel: KernelOptions | None,
) -> HeldOut | None:
    """Each row's scores by a model fit without its fold (small data: cheap). Rows of a class
    with one example are never held out (a model without that class could not score it)."""
    rng = np.random.default_rng(seed)
    fold = np.full(len(y), -1)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        if len(members) >= 2:
            fold[members] = (np.arange(len(members)) + int(label)) % SMALL_DATA_FOLDS
    rows: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    for k in range(SMALL_DATA_FOLDS):
        held = fold == k
        if not held.any():
            continue
        scores = _fold_scores(features, y, held, c, seed, vectors, kernel)
        if scores is not None:
            rows.append(np.flatnonzero(held))
            blocks.append(scores)
    if not rows:
        return None
    folds = np.concatenate([np.full(len(r), k) for k, r in enumerate(rows)])
    return HeldOut(np.concatenate(rows), np.vstack(blocks), folds)
