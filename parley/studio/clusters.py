"""Messages grouped by meaning: candidate new intents.

Each message becomes a sentence vector (the NLU's static WordPiece vectors, or MiniLM sentence
embeddings when the `embeddings` extra is installed and chosen), and scikit-learn's agglomerative
clustering (average linkage, cosine distance) merges groups while they are closer than a
distance threshold: the number of clusters follows from the data, not from a setting. Identical
messages (ignoring case and spacing) are clustered once and counted as many times as they were
sent. Clusters smaller than `min_size` messages go to "other".
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STATIC = "static"
EMBEDDINGS = "embeddings"
# Cosine distance below which groups merge (chosen on paraphrase sets; see docs/studio.md).
DEFAULT_DISTANCE = {STATIC: 0.45, EMBEDDINGS: 0.5}
DEFAULT_MIN_SIZE = 3


def available_vectors() -> list[str]:
    """The kinds of sentence vectors this installation can compute."""
    from parley.nlu.embeddings import embeddings_available

    return [STATIC, EMBEDDINGS] if embeddings_available() else [STATIC]


def project_vectors(project: Path) -> str:
    """The vectors the project's NLU uses: MiniLM when its config.yml pipeline has a dense
    featurizer (SentenceEmbeddingFeaturizer, LanguageModelFeaturizer, ...) and the extra is
    installed, else the static vectors. A config.yml that cannot be read gives the static ones
    (training, not this page, reports what is wrong with it)."""
    from ruamel.yaml import YAML, YAMLError

    from parley.nlu.registry import SPECS

    if EMBEDDINGS not in available_vectors():
        return STATIC
    try:
        config = YAML(typ="safe").load((project / "config.yml").read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return STATIC
    pipeline = config.get("pipeline") if isinstance(config, dict) else None
    names = [c.get("name") for c in pipeline or [] if isinstance(c, dict)]
    dense = any(name in SPECS and SPECS[name].role == "dense" for name in names)
    return EMBEDDINGS if dense else STATIC


class MessageVectors:
    """Sentence vectors of messages; MiniLM vectors (a few ms each) are kept for the next page
    view, up to `cache_size` texts, keyed by a digest of the text (no user text is kept)."""

    def __init__(self, cache_size: int = 50_000) -> None:
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, texts: list[str], kind: str) -> np.ndarray:
        """One row per text. Raises ValueError for an unknown or unavailable `kind`."""
        if kind not in available_vectors():
            raise ValueError(f"{kind!r}: choose one of {', '.join(available_vectors())}")
        if kind == STATIC:
            from parley.nlu.static_vectors import shared_vectors

            return shared_vectors().vectors(texts)
        from parley.nlu.embeddings import shared_encoder

        key_of = {
            text: hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest() for text in texts
        }
        keys = [key_of[text] for text in texts]
        with self._lock:
            found = {key: self._cache[key] for key in keys if key in self._cache}
        missing = [text for text, key in key_of.items() if key not in found]
        if missing:
            fresh = shared_encoder().encode(missing)
            found.update((key_of[text], fresh[row]) for row, text in enumerate(missing))
        with self._lock:
            for key in keys:
                self._cache[key] = found[key]
                self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return np.vstack([found[key] for key in keys]) if keys else np.zeros((0, 1), np.float32)


@dataclass(frozen=True)
class Grouping:
    """Indexes into the clustered texts: each cluster most typical message first, the largest
    cluster first; `other` holds the rest (small clusters, messages without known words)."""

    clusters: list[list[int]]
    other: list[int]


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def group_by_meaning(
    texts: list[str],
    vectors: np.ndarray,
    distance: float,
    min_size: int = DEFAULT_MIN_SIZE,
) -> Grouping:
    """Cluster `texts` (rows of `vectors`) so that, within a cluster, groups are on average
    closer than the cosine `distance`."""
    from sklearn.cluster import AgglomerativeClustering

    by_key: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        by_key.setdefault(_key(text), []).append(index)
    unique = [rows for rows in by_key.values() if np.linalg.norm(vectors[rows[0]]) > 0]
    other = [i for rows in by_key.values() if np.linalg.norm(vectors[rows[0]]) == 0 for i in rows]
    points: np.ndarray | None = None
    if len(unique) >= 2:
        points = _unit(np.vstack([vectors[rows[0]] for rows in unique]))
        labels = AgglomerativeClustering(
            n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
        ).fit_predict(points)
    else:
        if unique:
            points = _unit(np.vstack([vectors[rows[0]] for rows in unique]))
        labels = np.zeros(len(unique), int)
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members.setdefault(int(label), []).append(position)
    clusters = []
    for positions in members.values():
        size = sum(len(unique[p]) for p in positions)
        if size < min_size:
            other.extend(i for p in positions for i in unique[p])
            continue
        assert points is not None
        weights = np.array([len(unique[p]) for p in positions], np.float32)
        centre = (points[positions] * weights[:, None]).sum(axis=0)
        typical = sorted(positions, key=lambda p: -float(points[p] @ centre))
        clusters.append([i for p in typical for i in unique[p]])
    clusters.sort(key=lambda rows: (-len(rows), rows[0]))
    return Grouping(clusters, sorted(other))


def _unit(points: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(points, axis=1, keepdims=True)
    return np.asarray(points / np.maximum(norms, 1e-12), np.float32)
