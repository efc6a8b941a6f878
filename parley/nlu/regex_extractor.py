"""RegexEntityExtractor: entities found by the training data's regexes and lookup tables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from parley.nlu.component import TrainingSet
from parley.nlu.features import pattern_features
from parley.nlu.message import Message


class RegexEntityExtractor:
    """Like Rasa's: only patterns named after an entity annotated in the training data."""

    kind = "regex_entities"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.patterns: list[tuple[str, str]] = []
        self._compiled: list[tuple[str, re.Pattern[str]]] = []

    def train(self, training: TrainingSet) -> None:
        annotated = set(training.data.entity_types)
        features = pattern_features(
            training.data.regexes,
            training.data.lookups,
            bool(self.options.get("use_regexes", True)),
            bool(self.options.get("use_lookup_tables", True)),
            bool(self.options.get("use_word_boundaries", True)),
        )
        self.patterns = [(p.name, p.pattern) for p in features if p.name in annotated]
        self._compile()

    def _compile(self) -> None:
        flags = 0 if self.options.get("case_sensitive", False) else re.IGNORECASE
        self._compiled = [(name, re.compile(pattern, flags)) for name, pattern in self.patterns]

    def process(self, message: Message) -> None:
        for entity, pattern in self._compiled:
            for match in pattern.finditer(message.text):
                if match.end() == match.start():
                    continue
                message.entities.append(
                    {
                        "entity": entity,
                        "start": match.start(),
                        "end": match.end(),
                        "value": match.group(0),
                        "extractor": self.name,
                    }
                )

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "patterns.json").write_text(json.dumps(self.patterns, ensure_ascii=False))

    def restore(self, folder: Path) -> None:
        self.patterns = [(n, p) for n, p in json.loads((folder / "patterns.json").read_text())]
        self._compile()
