"""The message a pipeline works on: text, tokens, features and what components found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.project.entities import EntityAnnotation


@dataclass(frozen=True)
class Token:
    """A word of the text; `start`/`end` index the original text."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


class Message:
    """One utterance passing through the pipeline; components fill in their results.

    A training message also carries its gold `intent` (full name, e.g. `faq/ask_hours`) and
    `gold_entities`.
    """

    __slots__ = (
        "dense",
        "entities",
        "gold_entities",
        "gold_intent",
        "intent",
        "intent_ranking",
        "response_selector",
        "sparse",
        "static",
        "text",
        "tokens",
    )

    def __init__(
        self,
        text: str,
        gold_intent: str | None = None,
        gold_entities: tuple[EntityAnnotation, ...] = (),
    ) -> None:
        self.text = text
        self.gold_intent = gold_intent
        self.gold_entities = gold_entities
        self.tokens: list[Token] = []
        # (indices, values) of the sparse features; dense sentence embedding when configured
        self.sparse: tuple[np.ndarray, np.ndarray] | None = None
        self.dense: np.ndarray | None = None
        # the static word vector (unit length) when StaticWordVectorsFeaturizer is configured
        self.static: np.ndarray | None = None
        self.intent: dict[str, Any] = {"name": None, "confidence": 0.0}
        self.intent_ranking: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []
        self.response_selector: dict[str, Any] = {"all_retrieval_intents": []}

    def as_parse_result(self) -> dict[str, Any]:
        """Rasa's parse-result JSON shape."""
        return {
            "text": self.text,
            "intent": self.intent,
            "entities": self.entities,
            "intent_ranking": self.intent_ranking,
            "response_selector": self.response_selector,
        }
