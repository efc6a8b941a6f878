"""Kernel scores over a message's static word vector, added to the linear SVM's scores.

Ridge regression on random Fourier features approximates an RBF-kernel classifier: it sees
which meanings lie close together, which a linear model over the same vector cannot. It is fit
in closed form (one linear solve, well under a second on HWU64) and parsing one message costs a
256 x 2048 product. Settings were chosen by 5-fold CV on HWU64's train split (docs/nlu.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROWS_PER_BLOCK = 1024


@dataclass(frozen=True)
class KernelOptions:
    """`features` random Fourier features of exp(-gamma |x - y|^2), ridge penalty `penalty`;
    the class scores are added to the SVM's times `weight`."""

    features: int = 2048
    gamma: float = 0.5
    penalty: float = 0.1
    weight: float = 0.5
    seed: int = 0


class RandomFeatureRidge:
    """Class scores = [x, sqrt(2/n) cos(x P + b), 1] @ W for a unit vector x."""

    def __init__(self, projection: np.ndarray, shift: np.ndarray, weights: np.ndarray) -> None:
        self.projection = projection
        self.shift = shift
        self.weights = weights

    @classmethod
    def train(
        cls, vectors: np.ndarray, classes: np.ndarray, n_classes: int, options: KernelOptions
    ) -> RandomFeatureRidge:
        """Fit on rows of `vectors` labelled by class index `classes` (targets +1 / -1)."""
        rng = np.random.default_rng(options.seed)
        projection = rng.normal(
            0.0, np.sqrt(2 * options.gamma), (vectors.shape[1], options.features)
        ).astype(np.float32)
        shift = rng.uniform(0, 2 * np.pi, options.features).astype(np.float32)
        model = cls(projection, shift, np.zeros((0, n_classes), np.float32))
        width = vectors.shape[1] + options.features + 1
        gram = np.zeros((width, width))
        moments = np.zeros((width, n_classes))
        # Block by block, so the design matrix is never whole in memory (HWU64: 83 MB at once);
        # each block's float32 products are summed in float64.
        for start in range(0, len(vectors), ROWS_PER_BLOCK):
            design = model._design(vectors[start : start + ROWS_PER_BLOCK])
            targets = -np.ones((len(design), n_classes), np.float32)
            targets[np.arange(len(design)), classes[start : start + ROWS_PER_BLOCK]] = 1.0
            gram += design.T @ design
            moments += design.T @ targets
        gram[np.diag_indices_from(gram)] += options.penalty
        weights = np.linalg.solve(gram, moments)
        return cls(projection, shift, weights.astype(np.float32))

    def _design(self, vectors: np.ndarray) -> np.ndarray:
        n = self.projection.shape[1]
        waves = np.cos(vectors @ self.projection + self.shift) * np.float32(np.sqrt(2 / n))
        ones = np.ones((len(vectors), 1), np.float32)
        return np.hstack([vectors.astype(np.float32), waves, ones])

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Class scores, one row per vector (a single vector gives one row)."""
        return np.asarray(self._design(np.atleast_2d(vectors)) @ self.weights)

    def persist(self, folder: Path, prefix: str) -> None:
        np.save(folder / f"{prefix}_projection.npy", self.projection)
        np.save(folder / f"{prefix}_shift.npy", self.shift)
        np.save(folder / f"{prefix}_weights.npy", self.weights)

    @classmethod
    def load(cls, folder: Path, prefix: str) -> RandomFeatureRidge:
        return cls(
            *(
                np.load(folder / f"{prefix}_{part}.npy", allow_pickle=False)
                for part in ("projection", "shift", "weights")
            )
        )
