"""Intent classifiers: the linear classifier (what DIETClassifier maps to) and keywords."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from parley.nlu.background import background_vectors, topic_vectors
from parley.nlu.component import TrainingSet, message_features
from parley.nlu.in_domain import words_of
from parley.nlu.kernel import KernelOptions
from parley.nlu.linear import LinearModel
from parley.nlu.message import Message
from parley.nlu.static_vectors import shared_vectors
from parley.project.nlu_data import RESPONSE_KEY_SEPARATOR

logger = logging.getLogger(__name__)

DEFAULT_RANKING_LENGTH = 10
# LinearSVC C chosen on HWU64's validation split and confirmed by 5-fold CV on its train split
# (docs/nlu.md): sparse n-grams alone want little regularisation, with dense columns more.
SPARSE_C = 1.0
STATIC_C = 0.5  # with static word vectors
DENSE_C = 0.3  # with sentence embeddings
# Options of the kernel head over the static word vector (`kernel.KernelOptions`)
KERNEL_OPTIONS = {
    "kernel_features": "features",
    "kernel_gamma": "gamma",
    "kernel_penalty": "penalty",
    "kernel_weight": "weight",
}


def base_intent(name: str) -> str:
    return name.split(RESPONSE_KEY_SEPARATOR, 1)[0]


def ranking(labels: list[str], probs: np.ndarray, length: int) -> list[dict[str, Any]]:
    """Top `length` labels by probability, as Rasa's `[{name, confidence}]`."""
    order = np.argsort(-probs, kind="stable")
    if length > 0:
        order = order[:length]
    return [{"name": labels[i], "confidence": float(probs[i])} for i in order]


class LinearIntentClassifier:
    """Sparse (+ dense) features -> linear SVM -> temperature-calibrated softmax over intents."""

    kind = "linear_intent"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.model: LinearModel | None = None
        self.sparse_size = 0

    def train(self, training: TrainingSet) -> None:
        rows = [i for i, m in enumerate(training.messages) if m.gold_intent]
        if not rows:
            return
        labels = [base_intent(training.messages[i].gold_intent or "") for i in rows]
        features = training.features()[rows]
        self.sparse_size = training.sparse_size
        seed = int(self.options.get("random_seed") or 0)
        self.model = LinearModel.train(
            features,
            labels,
            c=float(self.options.get("C", self._default_c(training))),
            seed=seed,
            vectors=None if training.static is None else training.static[rows],
            kernel=self.kernel_options(seed),
            scope_vectors=self._scope_vectors(training, rows),
            words=frozenset(w for i in rows for w in words_of(training.messages[i].text)),
            topics=self._topics(training, rows),
        )

    @staticmethod
    def _scope_vectors(training: TrainingSet, rows: list[int]) -> np.ndarray:
        """Static word vectors of the rows: the in-domain confidence uses them in any pipeline."""
        if training.static is not None:
            return np.asarray(training.static[rows])
        return shared_vectors().vectors([training.messages[i].text for i in rows])

    def _topics(
        self, training: TrainingSet, rows: list[int]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows' topic vectors and the background messages' (None: option turned off)."""
        if not self.background_messages:
            return None
        texts = [training.messages[i].text for i in rows]
        return topic_vectors(texts), background_vectors()

    @staticmethod
    def _default_c(training: TrainingSet) -> float:
        if training.dense is None:
            return SPARSE_C
        if training.static is not None and training.dense.shape[1] == training.static.shape[1]:
            return STATIC_C
        return DENSE_C

    @property
    def background_messages(self) -> bool:
        """Whether the in-domain score compares messages with generic ones (`background.py`)."""
        return bool(self.options.get("background_messages", True))

    def kernel_options(self, seed: int) -> KernelOptions:
        given = {KERNEL_OPTIONS[k]: v for k, v in self.options.items() if k in KERNEL_OPTIONS}
        defaults = KernelOptions()
        return KernelOptions(
            features=int(given.get("features", defaults.features)),
            gamma=float(given.get("gamma", defaults.gamma)),
            penalty=float(given.get("penalty", defaults.penalty)),
            weight=float(given.get("weight", defaults.weight)),
            seed=seed,
        )

    def process(self, message: Message) -> None:
        if self.model is None:
            return
        features = message_features(message, self.sparse_size)
        scope_vector = None
        topic = None
        words = words_of(message.text)
        if self.model.scope is not None:
            # the in-domain score reads a misspelt training word as that word (`helo` as
            # `hello`): the classifier's character n-grams recognise it, the word vectors not
            corrected = self.model.scope.near_words.corrected(words)
            scope_text, scope_vector = message.text, message.static
            if corrected is not None:
                scope_text, scope_vector = " ".join(corrected), None
                words = words_of(scope_text)  # `goodmorning` -> `good`, `morning`
            if scope_vector is None:
                scope_vector = shared_vectors().vector(scope_text)
            if self.model.scope.topic is not None:
                topic = self.model.scope.topic.topic_vector(scope_text)
        probs = self.model.confidences(
            *features,
            message.static,
            scope_vector,
            words,
            shared_vectors().wordpiece.is_word,
            topic,
        )
        length = int(self.options.get("ranking_length", DEFAULT_RANKING_LENGTH))
        message.intent_ranking = ranking(self.model.labels, probs, length)
        message.intent = dict(message.intent_ranking[0])

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "intent.json").write_text(
            json.dumps({"trained": self.model is not None, "sparse_size": self.sparse_size})
        )
        if self.model is not None:
            self.model.persist(folder)

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "intent.json").read_text())
        self.sparse_size = int(meta["sparse_size"])
        self.model = LinearModel.load(folder) if meta["trained"] else None


class KeywordIntentClassifier:
    """An intent whose example text appears as whole words in the message wins (confidence 1)."""

    kind = "keyword_intent"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.keywords: dict[str, str] = {}
        self._compiled: list[tuple[re.Pattern[str], str]] = []

    def train(self, training: TrainingSet) -> None:
        case_sensitive = bool(self.options.get("case_sensitive", True))
        keywords: dict[str, str] = {}
        ambiguous: set[str] = set()
        for message in training.messages:
            if not message.gold_intent:
                continue
            key = message.text if case_sensitive else message.text.lower()
            intent = base_intent(message.gold_intent)
            if keywords.setdefault(key, intent) != intent:
                ambiguous.add(key)
        for key in sorted(ambiguous):
            logger.warning("Keyword '%s' is an example of several intents; it is ignored.", key)
            keywords.pop(key)
        self.keywords = keywords
        self._compile()

    def _compile(self) -> None:
        flags = 0 if self.options.get("case_sensitive", True) else re.IGNORECASE
        self._compiled = [
            (re.compile(rf"\b{re.escape(k)}\b", flags), intent)
            for k, intent in sorted(self.keywords.items(), key=lambda kv: -len(kv[0]))
        ]

    def process(self, message: Message) -> None:
        for pattern, intent in self._compiled:
            if pattern.search(message.text):
                message.intent = {"name": intent, "confidence": 1.0}
                message.intent_ranking = [dict(message.intent)]
                return
        if message.intent.get("name") is None:
            message.intent = {"name": None, "confidence": 0.0}

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keywords.json").write_text(json.dumps(self.keywords, ensure_ascii=False))

    def restore(self, folder: Path) -> None:
        self.keywords = json.loads((folder / "keywords.json").read_text())
        self._compile()
