"""Generic English messages that show an assistant where its own topics end.

`data/background_en.txt` holds 2,400 messages people type to chat assistants, spread over some
sixty topics (general knowledge, banking, travel, IT support, cooking, ...), written for Parley
(see data/README.md). `TopicDensity` compares how densely a message's neighbourhood holds the
predicted intent's examples and how densely it holds these messages: a kernel density ratio. A
question about another topic sits among background messages only.

The vectors compared are topic vectors: static word vectors whose tokens are weighted by smooth
inverse frequency (`token_weights`), so "what is the" counts little and "capital", "france"
much. (The in-domain score's nearest-example term keeps the plain vectors: telling `alarm_set`
from `alarm_query` needs the common words.)

The background also has messages of the assistant's own topics (any assistant's topics are
somebody's background). They lower the ratio of in-domain messages a little but do not reorder
them: the project's examples are a sample of its domain and the background an unlabelled mix,
and the ratio of the two densities ranks messages as the in-domain probability would. The
calibration on held-out in-domain messages (`in_domain.InDomainScore`) places Rasa's thresholds.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from parley.nlu.class_rows import grouped_by_class, unit_rows

BACKGROUND_FILE = Path(__file__).parent / "data" / "background_en.txt"
# smooth inverse frequency: a token of frequency p weighs SIF / (SIF + p)
SIF = 1e-3
# kernel exp(cosine / DENSITY_BANDWIDTH); log ratios clipped to [RATIO_FLOOR, RATIO_CEILING].
# The ceiling 0 makes the comparison a penalty only: with ceilings 1 and 2 the held-out intents
# of HWU64 and SNIPS (siblings of known ones, on the project's topics) lost AUROC (SNIPS 75 %:
# 0.957 -> 0.948 / 0.930), with 0 none (0.958; HWU64 0.873 either way), for 0.03 less recall of
# other topics (docs/nlu.md)
DENSITY_BANDWIDTH = 0.1
RATIO_FLOOR = -4.0
RATIO_CEILING = 0.0
# Topic vectors are compared in the span of their first principal directions (over the
# training examples and the background together): half the memory and time of all 256 for
# the same results (example projects' mean off-topic AUROC 0.916 against 0.912, HWU64 and
# SNIPS 75 % within 0.001; 64 lost 0.003-0.002, docs/nlu.md)
TOPIC_DIMENSIONS = 128


@functools.cache
def background_texts() -> tuple[str, ...]:
    lines = BACKGROUND_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def background_digest() -> str:
    return hashlib.sha256("\n".join(background_texts()).encode()).hexdigest()[:16]


@functools.cache
def token_weights() -> np.ndarray:
    """A weight per word-piece token: common ones ("the", "what", "is") count little in topic
    vectors (frequencies counted in the background messages)."""
    from parley.nlu.static_vectors import shared_vectors

    vectors = shared_vectors()
    counts = np.ones(len(vectors.table), np.float64)
    for text in background_texts():
        np.add.at(counts, vectors.wordpiece.encode(text), 1.0)
    frequency = counts / counts.sum()
    weights = (SIF / (SIF + frequency)).astype(np.float32)
    weights.setflags(write=False)
    return weights


def topic_vectors(texts: list[str]) -> np.ndarray:
    """The unit sums of the texts' static token vectors, each weighted by `token_weights`."""
    from parley.nlu.static_vectors import shared_vectors

    return shared_vectors().vectors(texts, token_weights())


@functools.cache
def background_vectors() -> np.ndarray:
    """Topic vectors of the background messages (read-only, shared by the process)."""
    vectors = topic_vectors(list(background_texts()))
    vectors.setflags(write=False)
    return vectors


def principal_directions(rows: np.ndarray, count: int) -> np.ndarray:
    """The `count` leading right singular vectors of `rows`, as columns (fewer when `rows` has
    fewer rows or columns than `count`)."""
    _, _, directions = np.linalg.svd(rows.astype(np.float64), full_matrices=False)
    return np.ascontiguousarray(directions[:count].T, dtype=np.float32)


def log_mean_kernel(cosines: np.ndarray, bandwidth: float) -> np.ndarray:
    """log of the mean of exp(cosine / bandwidth) over the last axis (a kernel density up to a
    constant), computed without overflow; -inf over an empty set."""
    if cosines.shape[-1] == 0:
        return np.full(cosines.shape[:-1], -np.inf)
    scaled = cosines / bandwidth
    top = scaled.max(axis=-1, keepdims=True)
    summed = np.exp(scaled - top).mean(axis=-1)
    return np.asarray(top[..., 0] + np.log(summed))


class TopicDensity:
    """Per-class topic vectors of the training examples and the background's, both with the
    training mean removed, projected on `basis` and unit length (float16 precision, as
    stored)."""

    def __init__(
        self,
        mean: np.ndarray,
        vectors: np.ndarray,
        offsets: np.ndarray,
        background: np.ndarray,
        weights: np.ndarray,
        basis: np.ndarray | None = None,
    ) -> None:
        # the token weights the topic vectors were made with: kept with the model, so that a
        # message's topic vector needs no pass over the background messages at parse time
        self.weights = np.asarray(weights, np.float32)
        self.mean = np.asarray(mean, np.float32)
        # rows grouped by class: class c has rows offsets[c]:offsets[c+1]
        self.vectors = np.asarray(vectors, np.float16).astype(np.float32)
        self.offsets = offsets
        self.background = np.asarray(background, np.float16).astype(np.float32)
        # topic vector dimensions x compared dimensions; None: a model trained before the
        # projection compares whole topic vectors
        self.basis = None if basis is None else np.asarray(basis, np.float32)

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        background: np.ndarray,
    ) -> TopicDensity:
        """`vectors`: the training examples' topic vectors, `y` their classes; `background`
        the background's (`background_vectors`)."""
        centre = vectors.mean(axis=0)
        rows, offsets = grouped_by_class(vectors, y, n_classes, centre)
        generic = unit_rows(background - centre)
        basis = principal_directions(np.vstack([rows, generic]), TOPIC_DIMENSIONS)
        projected = unit_rows(rows @ basis)
        return cls(centre, projected, offsets, unit_rows(generic @ basis), token_weights(), basis)

    def with_examples(self, vectors: np.ndarray, offsets: np.ndarray) -> TopicDensity:
        """The same background, mean, weights and basis with other examples (centred on
        `mean`, unit length and grouped: `class_rows.grouped_by_class`; projected here)."""
        if self.basis is not None:
            vectors = unit_rows(vectors @ self.basis)
        return TopicDensity(self.mean, vectors, offsets, self.background, self.weights, self.basis)

    def topic_vector(self, text: str) -> np.ndarray:
        """The text's topic vector, with the token weights the model was trained with."""
        from parley.nlu.static_vectors import shared_vectors

        return shared_vectors().vector(text, self.weights)

    def ratios(self, predicted: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """log(kernel density of the predicted class's examples / of the background) at each
        topic vector, clipped to [RATIO_FLOOR, RATIO_CEILING] (the floor for an empty one)."""
        centred = np.atleast_2d(vectors) - self.mean
        if self.basis is not None:
            centred = centred @ self.basis
        centred = unit_rows(centred)
        generic = log_mean_kernel(centred @ self.background.T, DENSITY_BANDWIDTH)
        own = np.full(len(centred), -np.inf)
        for row, label in enumerate(np.atleast_1d(predicted)):
            start, end = self.offsets[label], self.offsets[label + 1]
            if end > start and centred[row].any():
                cosines = self.vectors[start:end] @ centred[row]
                own[row] = float(log_mean_kernel(cosines, DENSITY_BANDWIDTH))
        return np.clip(own - generic, RATIO_FLOOR, RATIO_CEILING)

    def persist(self, folder: Path, prefix: str) -> None:
        np.save(folder / f"{prefix}_mean.npy", self.mean)
        np.save(folder / f"{prefix}_vectors.npy", self.vectors.astype(np.float16))
        np.save(folder / f"{prefix}_offsets.npy", self.offsets)
        np.save(folder / f"{prefix}_background.npy", self.background.astype(np.float16))
        np.save(folder / f"{prefix}_weights.npy", self.weights)
        if self.basis is not None:
            np.save(folder / f"{prefix}_basis.npy", self.basis)

    @classmethod
    def load(cls, folder: Path, prefix: str) -> TopicDensity | None:
        if not (folder / f"{prefix}_background.npy").is_file():
            return None  # a model trained before Parley compared topics
        mean, vectors, offsets, background, weights = (
            np.load(folder / f"{prefix}_{part}.npy", allow_pickle=False)
            for part in ("mean", "vectors", "offsets", "background", "weights")
        )
        basis_file = folder / f"{prefix}_basis.npy"
        basis = np.load(basis_file, allow_pickle=False) if basis_file.is_file() else None
        return cls(mean, vectors, offsets, background, weights, basis)
