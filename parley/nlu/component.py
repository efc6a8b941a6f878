"""What every NLU component implements, and the training data they share while training."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from parley.nlu.message import Message
from parley.project.nlu_data import NLUData

if TYPE_CHECKING:  # scipy is imported by training only: parsing works on numpy arrays
    from scipy import sparse as sp


class NLUError(Exception):
    """An NLU model cannot be trained or loaded; the message says why and what to do."""


@dataclass
class TrainingSet:
    """Training messages plus what featurizers computed for them (rows follow `messages`)."""

    messages: list[Message]
    data: NLUData
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    language: str = "en"
    sparse: sp.csr_matrix | None = None
    dense: np.ndarray | None = None
    static: np.ndarray | None = None  # static word vectors (unit rows), for the kernel head

    def features(self) -> sp.csr_matrix:
        """Sparse features with the dense ones (if any) appended as extra columns."""
        from scipy import sparse as sp

        blocks = []
        if self.sparse is not None:
            blocks.append(self.sparse)
        if self.dense is not None:
            blocks.append(sp.csr_matrix(self.dense))
        if not blocks:
            raise NLUError("the pipeline has no featurizer before its classifier")
        return sp.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    @property
    def sparse_size(self) -> int:
        return 0 if self.sparse is None else int(self.sparse.shape[1])


def message_features(message: Message, sparse_size: int) -> tuple[np.ndarray, np.ndarray]:
    """One message's features in the same column layout as `TrainingSet.features()`."""
    if message.sparse is not None:
        indices, values = message.sparse
    else:
        indices, values = np.zeros(0, np.int32), np.zeros(0, np.float32)
    if message.dense is None:
        return indices, values
    dense_idx = np.arange(sparse_size, sparse_size + len(message.dense), dtype=np.int32)
    return np.concatenate([indices, dense_idx]), np.concatenate([values, message.dense])


class Component(Protocol):
    """An NLU pipeline step. Constructors only store arguments (no work in `__init__`)."""

    kind: str  # registry key used to load it back
    name: str  # the name in config.yml (a Rasa name), reported as `extractor` etc.
    options: dict[str, Any]

    def train(self, training: TrainingSet) -> None: ...

    def process(self, message: Message) -> None: ...

    def persist(self, folder: Path) -> None:
        """Write the trained state as JSON and numpy arrays only (never pickle)."""
        ...

    def restore(self, folder: Path) -> None:
        """Read back what `persist` wrote."""
        ...
