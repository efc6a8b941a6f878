"""SpacyNLP + SpacyEntityExtractor: named entities from a real spaCy pipeline (`parley[spacy]`).

The spaCy model is named in `SpacyNLP`'s `model:` as in Rasa: an installed package
(`en_core_web_md`) or a folder written by `nlp.to_disk` (relative paths are read from the
project folder). When spaCy or the model is missing, `spacy_problem` says so and the registry
plans a substitute instead of failing the training.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.nlu.component import NLUError, TrainingSet
from parley.nlu.message import Message, Token

if TYPE_CHECKING:
    from spacy.language import Language

INSTALL_HINT = "pip install 'parley[spacy]'"
_LOCK = threading.Lock()  # spaCy's loading is not thread-safe; parsing with a loaded nlp is


def resolve_model(model: str, base: Path | None) -> str:
    """An existing model folder (relative to `base`, the project folder) as an absolute path;
    any other value is left as it is (a package name)."""
    candidate = Path(model).expanduser()
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    return str(candidate.resolve()) if candidate.is_dir() else model


def spacy_problem(model: str) -> str | None:
    """What is missing to run spaCy `model` (None when spaCy can load it), without loading it."""
    if importlib.util.find_spec("spacy") is None:
        return f"spaCy is not installed ({INSTALL_HINT})"
    path = Path(model)
    if path.is_dir():
        return None if (path / "config.cfg").is_file() else f"{model} is no spaCy model folder"
    if importlib.util.find_spec(model.replace("-", "_")) is not None:
        return None
    return (
        f"the spaCy model '{model}' is not installed (python -m spacy download {model},"
        " or give SpacyNLP `model:` the folder of a pipeline saved with nlp.to_disk)"
    )


@lru_cache(maxsize=4)
def _load(model: str) -> Language:
    import spacy

    return spacy.load(model)


def load_spacy(model: str) -> Language:
    """The spaCy pipeline `model` (loaded once per process); NLUError when it cannot be."""
    problem = spacy_problem(model)
    if problem is not None:
        raise NLUError(f"SpacyNLP: {problem}; retrain without spaCy or install it")
    with _LOCK:
        return _load(model)


def spacy_tokens(nlp: Language, text: str) -> list[Token]:
    """spaCy's tokens of `text` (whitespace tokens left out), with their character spans."""
    return [Token(t.text, t.idx, t.idx + len(t.text)) for t in nlp.make_doc(text) if not t.is_space]


class SpacyTokenizer:
    """Rasa's SpacyTokenizer: re-tokenizes each message with the spaCy model (first step)."""

    kind = "spacy_tokens"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self._nlp: Language | None = None

    def train(self, training: TrainingSet) -> None:
        self._nlp = load_spacy(str(self.options["model"]))
        for message in training.messages:
            message.tokens = spacy_tokens(self._nlp, message.text)

    def process(self, message: Message) -> None:
        if self._nlp is not None:
            message.tokens = spacy_tokens(self._nlp, message.text)

    def persist(self, folder: Path) -> None:
        _persist_model(folder, self.options)

    def restore(self, folder: Path) -> None:
        self._nlp = _restore_model(folder)


class SpacyFeaturizer:
    """Rasa's SpacyFeaturizer: the message's spaCy token vectors pooled (`pooling`: mean or
    max), unit length, appended to the dense features."""

    kind = "spacy_vectors"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self._nlp: Language | None = None

    def _vector(self, text: str) -> np.ndarray:
        assert self._nlp is not None
        doc = self._nlp(text)
        rows = [t.vector for t in doc if not t.is_space]
        width = self._nlp.vocab.vectors_length or (len(rows[0]) if rows else 0)
        if not rows:
            return np.zeros(width, np.float32)
        matrix = np.asarray(rows, dtype=np.float32)
        pooled = matrix.max(axis=0) if self.options.get("pooling") == "max" else matrix.mean(0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm > 0 else pooled).astype(np.float32)

    def train(self, training: TrainingSet) -> None:
        self._nlp = load_spacy(str(self.options["model"]))
        vectors = np.stack([self._vector(m.text) for m in training.messages])
        training.dense = vectors if training.dense is None else np.hstack([training.dense, vectors])

    def process(self, message: Message) -> None:
        vector = self._vector(message.text)
        dense = message.dense
        message.dense = vector if dense is None else np.concatenate([dense, vector])

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "spacy.json").write_text(json.dumps(self.options))

    def restore(self, folder: Path) -> None:
        self.options = json.loads((folder / "spacy.json").read_text())
        self._nlp = load_spacy(str(self.options["model"]))


def _persist_model(folder: Path, options: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spacy.json").write_text(json.dumps({"model": options["model"]}))


def _restore_model(folder: Path) -> Language:
    return load_spacy(str(json.loads((folder / "spacy.json").read_text())["model"]))


class SpacyEntityExtractor:
    """Rasa's SpacyEntityExtractor: the spaCy pipeline's entities whose label is in
    `dimensions` (all labels when it is not given), with `confidence` None as in Rasa."""

    kind = "spacy_entities"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self._nlp: Language | None = None

    @property
    def dimensions(self) -> set[str] | None:
        dims = self.options.get("dimensions")
        return {str(d) for d in dims} if dims else None

    def train(self, training: TrainingSet) -> None:
        self._nlp = load_spacy(str(self.options["model"]))

    def process(self, message: Message) -> None:
        if self._nlp is None:
            return
        wanted = self.dimensions
        for ent in self._nlp(message.text).ents:
            if wanted is None or ent.label_ in wanted:
                message.entities.append(
                    {
                        "entity": ent.label_,
                        "value": ent.text,
                        "start": ent.start_char,
                        "end": ent.end_char,
                        "confidence": None,
                        "extractor": self.name,
                    }
                )

    def persist(self, folder: Path) -> None:
        _persist_model(folder, self.options)

    def restore(self, folder: Path) -> None:
        self._nlp = _restore_model(folder)
