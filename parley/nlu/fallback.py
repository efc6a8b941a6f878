"""FallbackClassifier: `nlu_fallback` when the top intent is unsure or too close to the second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.nlu.component import TrainingSet
from parley.nlu.message import Message

FALLBACK_INTENT = "nlu_fallback"
DEFAULT_THRESHOLD = 0.3
DEFAULT_AMBIGUITY_THRESHOLD = 0.1


class FallbackClassifier:
    kind = "fallback"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    @property
    def threshold(self) -> float:
        return float(self.options.get("threshold", DEFAULT_THRESHOLD))

    @property
    def ambiguity_threshold(self) -> float:
        return float(self.options.get("ambiguity_threshold", DEFAULT_AMBIGUITY_THRESHOLD))

    def train(self, training: TrainingSet) -> None:
        return None

    def _should_fall_back(self, message: Message) -> bool:
        if message.intent.get("name") is None:
            return True
        if float(message.intent.get("confidence") or 0.0) < self.threshold:
            return True
        ranking = message.intent_ranking
        if len(ranking) >= 2:
            gap = float(ranking[0]["confidence"]) - float(ranking[1]["confidence"])
            return gap < self.ambiguity_threshold
        return False

    def process(self, message: Message) -> None:
        if not self._should_fall_back(message):
            return
        fallback = {"name": FALLBACK_INTENT, "confidence": self.threshold}
        message.intent = fallback
        message.intent_ranking = [dict(fallback), *message.intent_ranking]

    def persist(self, folder: Path) -> None:
        return None

    def restore(self, folder: Path) -> None:
        return None
