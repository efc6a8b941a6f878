"""The trained NLU pipeline: build from config.yml, train, parse, persist and load."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from parley.nlu.component import Component, NLUError, TrainingSet
from parley.nlu.crf import CRFEntityExtractor
from parley.nlu.duckling import BuiltinEntityExtractor, DucklingEntityExtractor
from parley.nlu.fallback import FallbackClassifier
from parley.nlu.features import SparseFeaturesComponent
from parley.nlu.intent import KeywordIntentClassifier, LinearIntentClassifier
from parley.nlu.message import Message
from parley.nlu.regex_extractor import RegexEntityExtractor
from parley.nlu.registry import Step, plan_pipeline
from parley.nlu.selector import ResponseSelector
from parley.nlu.spacy_nlp import SpacyEntityExtractor, SpacyFeaturizer, SpacyTokenizer
from parley.nlu.static_vectors import StaticWordVectorsFeaturizer
from parley.nlu.synonyms import EntitySynonymMapper
from parley.nlu.tokenizer import tokenize
from parley.project.config import ProjectConfig
from parley.project.errors import ProblemSink, ProjectError
from parley.project.nlu_data import NLUData

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
Progress = Callable[[int, int, str], None]  # (done, total, what is being trained)

KINDS: dict[str, Callable[[str, dict[str, Any]], Component]] = {
    "sparse_features": SparseFeaturesComponent,
    "static_vectors": StaticWordVectorsFeaturizer,
    "linear_intent": LinearIntentClassifier,
    "keyword_intent": KeywordIntentClassifier,
    "crf_entities": CRFEntityExtractor,
    "regex_entities": RegexEntityExtractor,
    "synonyms": EntitySynonymMapper,
    "duckling": DucklingEntityExtractor,
    "builtin_entities": BuiltinEntityExtractor,
    "response_selector": ResponseSelector,
    "fallback": FallbackClassifier,
    "spacy_entities": SpacyEntityExtractor,
    "spacy_tokens": SpacyTokenizer,
    "spacy_vectors": SpacyFeaturizer,
}


def _dense_kind() -> Callable[[str, dict[str, Any]], Component] | None:
    try:
        from parley.nlu.embeddings import SentenceEmbeddingFeaturizer, embeddings_available
    except ImportError:
        return None
    return SentenceEmbeddingFeaturizer if embeddings_available() else None


def _make(step: Step) -> Component:
    factory = KINDS.get(step.kind)
    if factory is None and step.kind == "dense_features":
        factory = _dense_kind()
    if factory is None:
        raise NLUError(
            f"component kind '{step.kind}' is not available in this installation"
            " (for sentence embeddings: pip install 'parley[embeddings]')"
        )
    return factory(step.name, dict(step.options))


def build_steps(config: ProjectConfig, entity_types: Collection[str] | None = None) -> list[Step]:
    """Check config.yml's pipeline; raises ProjectError listing what is wrong and supported.
    What is missing (a library, a model) and replaced is logged, one WARNING line each."""
    sink = ProblemSink()
    steps = plan_pipeline(
        config, sink, dense_available=_dense_kind() is not None, entity_types=entity_types
    )
    if sink.has_errors:
        raise ProjectError(sink.problems)
    for problem in sink.problems:
        logger.warning("%s", problem.message)
    return steps


def training_messages(data: NLUData) -> list[Message]:
    messages = []
    for example in data.examples:
        message = Message(example.text, example.intent, example.entities)
        message.tokens = tokenize(example.text)
        messages.append(message)
    return messages


class Pipeline:
    """Components in order; `parse` runs them over one message (thread-safe, no shared state)."""

    def __init__(self, steps: list[Step], components: list[Component], language: str) -> None:
        self.steps = steps
        self.components = components
        self.language = language

    @classmethod
    def train(
        cls,
        config: ProjectConfig,
        data: NLUData,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        progress: Progress | None = None,
    ) -> Pipeline:
        steps = build_steps(config, data.entity_types)
        if not data.examples:
            logger.warning("No NLU training examples; the model will predict no intent.")
        training = TrainingSet(
            training_messages(data), data, dict(responses or {}), config.language
        )
        components = [_make(step) for step in steps]
        for done, component in enumerate(components):
            if progress is not None:
                progress(done, len(components), component.name)
            component.train(training)
        if progress is not None:
            progress(len(components), len(components), "done")
        return cls(steps, components, config.language)

    def parse(self, text: str) -> dict[str, Any]:
        """Rasa's parse result for `text`."""
        return self.process(text).as_parse_result()

    def process(self, text: str, skip: frozenset[str] = frozenset()) -> Message:
        """Run the components over `text`, except those of a kind in `skip`."""
        message = Message(text)
        message.tokens = tokenize(text)
        for component in self.components:
            if component.kind not in skip:
                component.process(message)
        return message

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, (step, component) in enumerate(zip(self.steps, self.components, strict=True)):
            sub = f"{i:02d}_{step.kind}"
            component.persist(folder / sub)
            entries.append(
                {"kind": step.kind, "name": step.name, "options": step.options, "folder": sub}
            )
        meta = {"format": FORMAT_VERSION, "language": self.language, "components": entries}
        (folder / "pipeline.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> Pipeline:
        """Read a pipeline written by `persist` (JSON and numpy arrays only: no code runs)."""
        path = folder / "pipeline.json"
        if not path.is_file():
            raise NLUError(f"{folder} holds no NLU model (no pipeline.json); train one first")
        meta = json.loads(path.read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise NLUError(
                f"{path}: model format {meta.get('format')} is not supported by this Parley;"
                " retrain the model"
            )
        steps: list[Step] = []
        components: list[Component] = []
        for entry in meta["components"]:
            step = Step(entry["kind"], entry["name"], dict(entry["options"]))
            component = _make(step)
            component.restore(folder / entry["folder"])
            steps.append(step)
            components.append(component)
        return cls(steps, components, str(meta.get("language", "en")))
