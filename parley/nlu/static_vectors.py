"""StaticWordVectorsFeaturizer: what words mean, without a neural network at parse time.

Each WordPiece token of all-MiniLM-L6-v2 has one 256-dimensional vector, distilled from the
model once (tools/build_static_vectors.py) and shipped with Parley as int8 (8 MB, memory-mapped,
so server workers share the pages). A message's vector is the L2-normalised sum of its tokens'
vectors. The featurizer appends it, times `weight`, to the sparse features (the linear
classifier's dense columns) and keeps it for the intent classifier's kernel scores
(`kernel.RandomFeatureRidge`). Chosen by 5-fold CV on HWU64's train split (docs/nlu.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from parley.nlu.component import NLUError, TrainingSet
from parley.nlu.message import Message
from parley.nlu.wordpiece import WordPiece

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
DEFAULT_WEIGHT = 1.5


class StaticWordVectors:
    """The packaged token vectors and their WordPiece vocabulary (read-only, thread-safe)."""

    def __init__(self, folder: Path = DATA) -> None:
        vectors = folder / "static_vectors.npy"
        if not vectors.is_file():
            raise NLUError(f"{vectors} is missing: reinstall Parley")
        # a plain array over the mapped file: indexing a np.memmap costs more per call
        self.table = np.load(vectors, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        self.scales = np.load(folder / "static_vector_scales.npy", allow_pickle=False)
        vocabulary = (folder / "wordpiece_vocab.txt").read_text(encoding="utf-8").splitlines()
        if len(vocabulary) != len(self.table):
            raise NLUError(f"{folder}: vocabulary and vectors differ in size; reinstall Parley")
        self.wordpiece = WordPiece(vocabulary)
        self.dimension = int(self.table.shape[1])
        self._digest: str | None = None

    @property
    def digest(self) -> str:
        """sha256 of the vector table: a model records which table it was trained on."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.table.data).hexdigest()  # no copy of the table
        return self._digest

    def vector(self, text: str, weights: np.ndarray | None = None) -> np.ndarray:
        """The unit-length sum of the text's token vectors (zeros for a text without tokens),
        each token's times its entry of `weights` (one per vocabulary token) when given."""
        ids = self.wordpiece.encode(text)
        if not ids:
            return np.zeros(self.dimension, np.float32)
        scales = self.scales[ids] if weights is None else self.scales[ids] * weights[ids]
        summed = scales @ self.table[ids].astype(np.float32)
        norm = float(np.linalg.norm(summed))
        return np.asarray(summed / norm if norm > 0 else summed, np.float32)

    def vectors(self, texts: list[str], weights: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            out[row] = self.vector(text, weights)
        return out


_LOADING = threading.Lock()
_SHARED: list[StaticWordVectors] = []


def shared_vectors() -> StaticWordVectors:
    """The process's one table: pipelines share it."""
    with _LOADING:
        if not _SHARED:
            _SHARED.append(StaticWordVectors())
        return _SHARED[0]


class StaticWordVectorsFeaturizer:
    """Sets `Message.static` and appends it, scaled by `weight`, to `Message.dense`."""

    kind = "static_vectors"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    @property
    def weight(self) -> float:
        return float(self.options.get("weight", DEFAULT_WEIGHT))

    def train(self, training: TrainingSet) -> None:
        vectors = shared_vectors().vectors([m.text for m in training.messages])
        training.static = vectors
        scaled = vectors * self.weight
        training.dense = scaled if training.dense is None else np.hstack([training.dense, scaled])

    def process(self, message: Message) -> None:
        vector = shared_vectors().vector(message.text)
        message.static = vector
        scaled = vector * self.weight
        message.dense = scaled if message.dense is None else np.concatenate([message.dense, scaled])

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        table = shared_vectors()
        meta = {"dimension": table.dimension, "table_sha256": table.digest}
        (folder / "static_vectors.json").write_text(json.dumps(meta))

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "static_vectors.json").read_text())
        table = shared_vectors()
        if meta.get("dimension") != table.dimension:
            raise NLUError(
                f"{folder}: the model was trained on {meta.get('dimension')}-dimensional word"
                f" vectors, this Parley ships {table.dimension}; retrain the model"
            )
        if meta.get("table_sha256") != table.digest:
            logger.warning(
                "%s: the model was trained with another Parley's word vectors; retrain it for"
                " the measured accuracy",
                folder,
            )
