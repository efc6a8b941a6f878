"""CRFEntityExtractor: BILOU-tagged entities (with roles and groups) from a linear-chain CRF.

Trained with CRFsuite; the learned weights are exported to numpy arrays and decoded here with
Viterbi + forward-backward, so a model folder holds data only and parsing needs no CRFsuite.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pycrfsuite

from parley.nlu.bilou import OUTSIDE, SEPARATOR, bilou_tags, decode_tags
from parley.nlu.component import TrainingSet
from parley.nlu.crf_features import TokenParts, token_feature_parts, token_features
from parley.nlu.features import pattern_features
from parley.nlu.message import Message

DEFAULTS: dict[str, Any] = {"max_iterations": 50, "L1_c": 0.1, "L2_c": 0.1, "BILOU_flag": True}
# Averaged perceptron, chosen by measurement (SNIPS: entity F1 as good as L-BFGS, ~5x faster);
# L-BFGS with L1/L2 (Rasa's training) when the config sets `L1_c` or `L2_c`.
PERCEPTRON_ITERATIONS = 10
_GROUP_CACHE_SIZE = 100_000  # feature groups whose attribute ids a model keeps before starting over


class CRFEntityExtractor:
    """Entities of the types annotated in the training data; `name` is the reported extractor."""

    kind = "crf_entities"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.labels: list[str] = []
        self.attributes: dict[str, int] = {}
        self.state_indptr = np.zeros(1, np.int64)
        self.state_labels = np.zeros(0, np.int32)
        self.state_weights = np.zeros(0, np.float32)
        self.transitions = np.zeros((0, 0), np.float32)
        self.patterns: list[tuple[str, str]] = []
        self._compiled: list[tuple[str, Any]] = []
        self._group_ids: dict[tuple[str, ...], tuple[int, ...]] = {}
        self.use_intent = True

    def _option(self, key: str) -> Any:
        return self.options.get(key, DEFAULTS.get(key))

    def train(self, training: TrainingSet) -> None:
        sequences = [m for m in training.messages if m.gold_intent is not None or m.gold_entities]
        if not any(m.gold_entities for m in sequences):
            return
        self.patterns = [
            (p.name, p.pattern)
            for p in pattern_features(training.data.regexes, training.data.lookups)
        ]
        self._compile()
        trainer = self._trainer()
        for message in sequences:
            intent = (
                message.gold_intent.split("/", 1)[0]
                if self.use_intent and message.gold_intent
                else None
            )
            trainer.append(
                token_features(message.text, message.tokens, intent, self._compiled),
                bilou_tags(message.tokens, message.gold_entities, bool(self._option("BILOU_flag"))),
            )
        with tempfile.TemporaryDirectory(prefix="parley-crf-") as tmp:
            path = str(Path(tmp) / "model.crfsuite")
            _seed_crfsuite(int(self.options.get("random_seed", 1)))
            trainer.train(path)
            tagger = pycrfsuite.Tagger()
            tagger.open(path)
            self._export(tagger.info())
            tagger.close()

    def _trainer(self) -> pycrfsuite.Trainer:
        if "L1_c" in self.options or "L2_c" in self.options:
            trainer = pycrfsuite.Trainer("lbfgs", verbose=False)
            trainer.set_params(
                {
                    "c1": float(self._option("L1_c")),
                    "c2": float(self._option("L2_c")),
                    "max_iterations": int(self._option("max_iterations")),
                    "feature.possible_transitions": True,
                }
            )
            return trainer
        trainer = pycrfsuite.Trainer("ap", verbose=False)
        iterations = self.options.get("max_iterations", PERCEPTRON_ITERATIONS)
        trainer.set_params(
            {"max_iterations": int(iterations), "feature.possible_transitions": True}
        )
        return trainer

    def _export(self, info: Any) -> None:
        labels = sorted(set(info.labels))
        label_index = {label: i for i, label in enumerate(labels)}
        by_attribute: dict[str, list[tuple[int, float]]] = {}
        for (attribute, label), weight in info.state_features.items():
            by_attribute.setdefault(attribute, []).append((label_index[label], weight))
        names = sorted(by_attribute)
        indptr = [0]
        state_labels: list[int] = []
        state_weights: list[float] = []
        for name in names:
            for label, weight in by_attribute[name]:
                state_labels.append(label)
                state_weights.append(weight)
            indptr.append(len(state_labels))
        transitions = np.zeros((len(labels), len(labels)), np.float32)
        for (source, target), weight in info.transitions.items():
            transitions[label_index[source], label_index[target]] = weight
        self.labels = labels
        self.attributes = {name: i for i, name in enumerate(names)}
        self._group_ids = {}  # ids of the attributes before: no longer valid
        self.state_indptr = np.array(indptr, np.int64)
        self.state_labels = np.array(state_labels, np.int32)
        self.state_weights = np.array(state_weights, np.float32)
        self.transitions = transitions

    def _compile(self) -> None:
        import re

        self._compiled = [(name, re.compile(pattern)) for name, pattern in self.patterns]

    def _known(self, parts: list[TokenParts]) -> tuple[list[int], list[int]]:
        """(token position, attribute id) of every known feature of a message's tokens. The ids
        of a word's own and neighbour feature groups are kept per group (words recur)."""
        positions: list[int] = []
        ids: list[int] = []
        lookup = self.attributes.get
        cache = self._group_ids
        for position, (groups, rest) in enumerate(parts):
            for group in groups:
                known = cache.get(group)
                if known is None:
                    if len(cache) >= _GROUP_CACHE_SIZE:
                        cache.clear()
                    known = tuple(a for a in map(lookup, group) if a is not None)
                    cache[group] = known
                ids.extend(known)
                positions.extend([position] * len(known))
            for attr in rest:
                a = lookup(attr)
                if a is not None:
                    ids.append(a)
                    positions.append(position)
        return positions, ids

    def _emissions(self, n_tokens: int, positions: list[int], ids: list[int]) -> np.ndarray:
        """Per-token label scores: the sum of the weights of each token's known attributes."""
        n_labels = len(self.labels)
        scores: np.ndarray = np.zeros(n_tokens * n_labels, np.float64)
        if ids:
            attr_ids = np.array(ids, np.int64)
            starts = self.state_indptr[attr_ids]
            lengths = self.state_indptr[attr_ids + 1] - starts
            total = int(lengths.sum())
            # the concatenated ranges starts[k] .. starts[k] + lengths[k], without a Python loop
            offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            entries = np.repeat(starts, lengths) + offsets
            rows = np.repeat(np.array(positions, np.int64), lengths)
            scores = np.bincount(
                rows * n_labels + self.state_labels[entries],
                weights=self.state_weights[entries],
                minlength=n_tokens * n_labels,
            )
        return scores.reshape(n_tokens, n_labels)

    def process(self, message: Message) -> None:
        if not self.labels or not message.tokens:
            return
        intent = message.intent.get("name") if self.use_intent else None
        parts = token_feature_parts(message.text, message.tokens, intent, self._compiled)
        emissions = self._emissions(len(parts), *self._known(parts))
        path = _viterbi(emissions, self.transitions)
        tags = [self.labels[i] for i in path]
        if all(tag == OUTSIDE for tag in tags):
            return  # no entity: no confidence to compute (most messages)
        marginals = _marginals(emissions, self.transitions)
        confidences = [float(marginals[t, i]) for t, i in enumerate(path)]
        for found in decode_tags(message.text, message.tokens, tags, confidences):
            entity: dict[str, Any] = {
                "entity": found.entity,
                "start": found.start,
                "end": found.end,
                "value": found.value,
                "confidence_entity": found.confidence,
                "extractor": self.name,
            }
            if found.role is not None:
                entity["role"] = found.role
            if found.group is not None:
                entity["group"] = found.group
            message.entities.append(entity)

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "labels": self.labels,
            "attributes": sorted(self.attributes, key=self.attributes.__getitem__),
            "patterns": self.patterns,
            "use_intent": self.use_intent,
        }
        (folder / "crf.json").write_text(json.dumps(meta, ensure_ascii=False))
        np.savez(
            folder / "crf.npz",
            state_indptr=self.state_indptr,
            state_labels=self.state_labels,
            state_weights=self.state_weights,
            transitions=self.transitions,
        )

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "crf.json").read_text())
        self.labels = list(meta["labels"])
        self.attributes = {name: i for i, name in enumerate(meta["attributes"])}
        self._group_ids = {}  # ids of the attributes before: no longer valid
        self.patterns = [(n, p) for n, p in meta["patterns"]]
        self.use_intent = bool(meta["use_intent"])
        with np.load(folder / "crf.npz", allow_pickle=False) as arrays:
            self.state_indptr = arrays["state_indptr"]
            self.state_labels = arrays["state_labels"]
            self.state_weights = arrays["state_weights"]
            self.transitions = arrays["transitions"]
        self._compile()


def _viterbi(emissions: np.ndarray, transitions: np.ndarray) -> list[int]:
    n = len(emissions)
    score = emissions[0].copy()
    back = np.zeros((n, emissions.shape[1]), np.int64)
    for t in range(1, n):
        candidates = score[:, None] + transitions
        back[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + emissions[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def _marginals(emissions: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """P(tag at position t = label) under the CRF: scaled forward-backward (matrix products)."""
    n = len(emissions)
    step = np.exp(transitions - transitions.max())
    local = np.exp(emissions - emissions.max(axis=1, keepdims=True))
    alpha = np.empty_like(local)
    beta = np.empty_like(local)
    alpha[0] = local[0] / local[0].sum()
    for t in range(1, n):
        row = (alpha[t - 1] @ step) * local[t]
        alpha[t] = row / row.sum()
    beta[-1] = 1.0
    for t in range(n - 2, -1, -1):
        row = step @ (local[t + 1] * beta[t + 1])
        beta[t] = row / row.sum()
    joint = alpha * beta
    return np.asarray(joint / joint.sum(axis=1, keepdims=True))


__all__ = ["SEPARATOR", "CRFEntityExtractor"]


def _seed_crfsuite(seed: int) -> None:
    """CRFsuite's averaged perceptron shuffles the examples with the C library's `rand()`, whose
    state carries over from earlier trainings in the process: seed it, so the same data always
    gives the same model."""
    name = ctypes.util.find_library("c") or ctypes.util.find_library("msvcrt")
    if name:
        ctypes.CDLL(name).srand(ctypes.c_uint(seed))
