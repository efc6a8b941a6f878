"""A stratified, seeded train/test split of NLU data (`parley data split nlu`, as Rasa's).

Each intent (each full retrieval intent, `faq/ask_hours`) is split on its own, so the test
set has every intent in the training share; an intent with one example stays in training, one
with two or more keeps at least one for each side. Synonyms, regexes and lookup tables go to both
files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from parley.project.nlu_data import NLUData, NLUExample


@dataclass(frozen=True)
class Split:
    train: NLUData
    test: NLUData


def split_nlu(data: NLUData, training_fraction: float = 0.8, seed: int = 42) -> Split:
    """Split `data`; raises ValueError for a fraction outside (0, 1)."""
    if not 0 < training_fraction < 1:
        raise ValueError(f"--training-fraction {training_fraction} must be between 0 and 1")
    by_intent: dict[str, list[NLUExample]] = {}
    for example in data.examples:
        by_intent.setdefault(example.intent, []).append(example)
    generator = random.Random(seed)
    train: set[int] = set()
    index_of = {id(e): i for i, e in enumerate(data.examples)}
    for intent in sorted(by_intent):  # a fixed order: the same seed gives the same split
        examples = list(by_intent[intent])
        generator.shuffle(examples)
        keep = round(len(examples) * training_fraction)
        keep = max(1, min(keep, len(examples) - 1)) if len(examples) > 1 else len(examples)
        train.update(index_of[id(e)] for e in examples[:keep])
    in_train = tuple(e for i, e in enumerate(data.examples) if i in train)
    in_test = tuple(e for i, e in enumerate(data.examples) if i not in train)
    return Split(
        NLUData(in_train, data.synonyms, data.regexes, data.lookups),
        NLUData(in_test, data.synonyms, data.regexes, data.lookups),
    )
