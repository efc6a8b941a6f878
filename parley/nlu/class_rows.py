"""Training vectors as the in-domain score keeps them: unit length, mean removed, grouped by class.

Shared by the nearest-example term (`in_domain.InDomainScore`, static vectors) and the topic
comparison (`background.TopicDensity`, topic vectors).
"""

from __future__ import annotations

import numpy as np


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (a zero row stays zero), as float32."""
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-9), np.float32)


def grouped_by_class(
    vectors: np.ndarray, y: np.ndarray, n_classes: int, mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows minus `mean`, unit length, sorted by class (stable), and the offsets: class c
    has rows offsets[c]:offsets[c + 1]."""
    order = np.argsort(y, kind="stable")
    offsets = np.searchsorted(y[order], np.arange(n_classes + 1)).astype(np.int64)
    return unit_rows(vectors[order] - mean), offsets
