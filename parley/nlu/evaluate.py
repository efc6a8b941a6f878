"""Evaluate an NLU pipeline on labelled data: reports (JSON), plots (PNG), cross-validation."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold

from parley.nlu.pipeline import Pipeline, Progress
from parley.project.config import ProjectConfig
from parley.project.nlu_data import NLUData, NLUExample

Span = tuple[str, int, int]
# Like Rasa, entities of extractors that do not learn from the data are not evaluated.
PRETRAINED_EXTRACTORS = {"DucklingEntityExtractor", "BuiltinEntityExtractor"}


@dataclass
class Evaluation:
    """What a pipeline predicted for each example, and the scores derived from it."""

    gold_intents: list[str] = field(default_factory=list)
    predicted_intents: list[str] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    gold_entities: list[set[Span]] = field(default_factory=list)
    predicted_entities: list[set[Span]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per parse

    def extend(self, other: Evaluation) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    def intent_report(self) -> dict[str, Any]:
        """scikit-learn's classification_report dict (with `accuracy`)."""
        report: dict[str, Any] = classification_report(
            self.gold_intents, self.predicted_intents, output_dict=True, zero_division=0
        )
        report["accuracy"] = float(
            np.mean([g == p for g, p in zip(self.gold_intents, self.predicted_intents, strict=True)])
        ) if self.gold_intents else 0.0  # fmt: skip
        return report

    def entity_report(self) -> dict[str, Any]:
        """Exact-span precision/recall/F1 per entity type, with micro and macro averages."""
        counts: dict[str, list[int]] = {}  # type -> [true positives, predicted, gold]
        for gold, predicted in zip(self.gold_entities, self.predicted_entities, strict=True):
            for span in predicted:
                counts.setdefault(span[0], [0, 0, 0])[1] += 1
                if span in gold:
                    counts[span[0]][0] += 1
            for span in gold:
                counts.setdefault(span[0], [0, 0, 0])[2] += 1
        report: dict[str, Any] = {name: _scores(*c) for name, c in sorted(counts.items())}
        totals = [sum(c[i] for c in counts.values()) for i in range(3)]
        report["micro avg"] = _scores(*totals)
        per_type = [v for k, v in report.items() if k != "micro avg"]
        report["macro avg"] = {
            key: float(np.mean([v[key] for v in per_type])) if per_type else 0.0
            for key in ("precision", "recall", "f1-score")
        } | {"support": totals[2]}
        return report

    def errors(self) -> list[dict[str, Any]]:
        return [
            {
                "text": text,
                "intent": gold,
                "intent_prediction": {"name": predicted, "confidence": confidence},
            }
            for text, gold, predicted, confidence in zip(
                self.texts, self.gold_intents, self.predicted_intents, self.confidences, strict=True
            )
            if gold != predicted
        ]


def _scores(true_positives: int, predicted: int, gold: int) -> dict[str, float]:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": gold}


def _gold_spans(example: NLUExample) -> set[Span]:
    return {(a.entity, a.start, a.end) for a in example.entities}


def evaluate(pipeline: Pipeline, examples: tuple[NLUExample, ...] | list[NLUExample]) -> Evaluation:
    """Parse every example one by one (as a live assistant would) and record the predictions."""
    result = Evaluation()
    for example in examples:
        started = time.perf_counter()
        parsed = pipeline.parse(example.text)
        result.latencies.append(time.perf_counter() - started)
        result.texts.append(example.text)
        result.gold_intents.append(example.base_intent)
        result.predicted_intents.append(str(parsed["intent"].get("name")))
        result.confidences.append(float(parsed["intent"].get("confidence") or 0.0))
        result.gold_entities.append(_gold_spans(example))
        result.predicted_entities.append(
            {
                (e["entity"], int(e["start"]), int(e["end"]))
                for e in parsed["entities"]
                if e.get("extractor") not in PRETRAINED_EXTRACTORS
            }
        )
    return result


def cross_validate(
    config: ProjectConfig, data: NLUData, folds: int = 5, progress: Progress | None = None
) -> Evaluation:
    """Train on k-1 folds, evaluate on the held-out one, for each of `folds` stratified folds."""
    examples = list(data.examples)
    labels = [e.base_intent for e in examples]
    smallest = min(labels.count(label) for label in set(labels))
    splitter = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=0)
    total = Evaluation()
    for fold, (train_rows, test_rows) in enumerate(splitter.split(examples, labels)):
        if progress is not None:
            progress(fold, folds, f"fold {fold + 1}")
        train = NLUData(
            tuple(examples[i] for i in train_rows), data.synonyms, data.regexes, data.lookups
        )
        pipeline = Pipeline.train(config, train)
        total.extend(evaluate(pipeline, [examples[i] for i in test_rows]))
    return total


PLOTS_EXTRA = "parley[plots]"
"""The install extra with matplotlib, which draws the PNG plots."""


def write_reports(result: Evaluation, out: Path) -> dict[str, Path]:
    """intent_report.json, entity_report.json, errors.json and two PNG plots under `out`.

    Without matplotlib (the `parley[plots]` extra) the plots are left out, the reports are not.
    """
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "intent_report": out / "intent_report.json",
        "entity_report": out / "entity_report.json",
        "errors": out / "errors.json",
        "confusion_matrix": out / "intent_confusion_matrix.png",
        "histogram": out / "intent_histogram.png",
    }
    files["intent_report"].write_text(json.dumps(result.intent_report(), indent=2))
    files["entity_report"].write_text(json.dumps(result.entity_report(), indent=2))
    files["errors"].write_text(json.dumps(result.errors(), indent=2, ensure_ascii=False))
    try:
        from parley.nlu.plots import plot_confidence_histogram, plot_confusion_matrix
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] != "matplotlib":
            raise
        del files["confusion_matrix"], files["histogram"]
        return files
    plot_confusion_matrix(result.gold_intents, result.predicted_intents, files["confusion_matrix"])
    plot_confidence_histogram(
        result.gold_intents, result.predicted_intents, result.confidences, files["histogram"]
    )
    return files
