"""EntitySynonymMapper: extracted values replaced by their canonical value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parley.nlu.component import TrainingSet
from parley.nlu.message import Message


class EntitySynonymMapper:
    kind = "synonyms"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.synonyms: dict[str, str] = {}

    def train(self, training: TrainingSet) -> None:
        self.synonyms = {k.lower(): v for k, v in training.data.synonyms.items()}

    def process(self, message: Message) -> None:
        for entity in message.entities:
            value = entity.get("value")
            if not isinstance(value, str):
                continue
            canonical = self.synonyms.get(value.lower())
            if canonical is not None and canonical != value:
                entity["value"] = canonical
                entity.setdefault("processors", []).append(self.name)

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "synonyms.json").write_text(json.dumps(self.synonyms, ensure_ascii=False))

    def restore(self, folder: Path) -> None:
        self.synonyms = json.loads((folder / "synonyms.json").read_text())
