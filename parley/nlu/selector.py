"""ResponseSelector: for a retrieval intent (`faq`), which response key (`faq/ask_hours`) answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parley.nlu.component import TrainingSet, message_features
from parley.nlu.linear import LinearModel
from parley.nlu.message import Message
from parley.project.nlu_data import RESPONSE_KEY_SEPARATOR

DEFAULT_KEY = "default"
RANKING_LENGTH = 10


class ResponseSelector:
    """One linear model per retrieval intent, over the pipeline's features.

    The parse result carries `response_selector[<retrieval intent>]` (as Rasa does when the
    selector is trained per retrieval intent) and `all_retrieval_intents`.
    """

    kind = "response_selector"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.models: dict[str, LinearModel] = {}
        self.responses: dict[str, list[dict[str, Any]] | None] = {}
        self.sparse_size = 0

    def train(self, training: TrainingSet) -> None:
        wanted = self.options.get("retrieval_intent")
        rows: dict[str, list[int]] = {}
        for i, message in enumerate(training.messages):
            intent = message.gold_intent or ""
            if RESPONSE_KEY_SEPARATOR not in intent:
                continue
            base = intent.split(RESPONSE_KEY_SEPARATOR, 1)[0]
            if wanted and base != wanted:
                continue
            rows.setdefault(base, []).append(i)
        if not rows:
            return
        features = training.features()
        self.sparse_size = training.sparse_size
        for base, indices in rows.items():
            labels = [training.messages[i].gold_intent or "" for i in indices]
            self.models[base] = LinearModel.train(
                features[indices], labels, seed=int(self.options.get("random_seed") or 0)
            )
            for key in self.models[base].labels:
                self.responses[key] = training.responses.get(f"utter_{key}")

    def process(self, message: Message) -> None:
        selector = message.response_selector
        retrieval = selector.setdefault("all_retrieval_intents", [])
        if not self.models:
            return
        features = message_features(message, self.sparse_size)
        for base, model in self.models.items():
            probs = model.probabilities(*features)
            order = probs.argsort()[::-1][:RANKING_LENGTH]
            best = model.labels[int(order[0])]
            if base not in retrieval:
                retrieval.append(base)
            selector[base] = {
                "response": {
                    "responses": self.responses.get(best),
                    "confidence": float(probs[order[0]]),
                    "intent_response_key": best,
                    "utter_action": f"utter_{best}",
                },
                "ranking": [
                    {"confidence": float(probs[i]), "intent_response_key": model.labels[i]}
                    for i in order
                ],
            }
        if not self.options.get("retrieval_intent"):
            # Rasa names a selector without `retrieval_intent` "default": the one answering
            # the predicted retrieval intent (else the most confident one)
            predicted = message.intent.get("name")
            selector[DEFAULT_KEY] = (
                selector.get(predicted)
                if predicted in self.models
                else max(
                    (selector[base] for base in self.models),
                    key=lambda entry: entry["response"]["confidence"],
                )
            )

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "retrieval_intents": list(self.models),
            "responses": self.responses,
            "sparse_size": self.sparse_size,
        }
        (folder / "selector.json").write_text(json.dumps(meta, ensure_ascii=False))
        for i, model in enumerate(self.models.values()):
            model.persist(folder, prefix=f"model{i}")

    def restore(self, folder: Path) -> None:
        meta = json.loads((folder / "selector.json").read_text())
        self.responses = meta["responses"]
        self.sparse_size = int(meta["sparse_size"])
        self.models = {
            base: LinearModel.load(folder, prefix=f"model{i}")
            for i, base in enumerate(meta["retrieval_intents"])
        }
