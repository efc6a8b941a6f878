"""SpacyNLP + SpacyEntityExtractor: real spaCy when installed, one clear line per piece when not."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from parley.nlu import Interpreter, load
from parley.nlu.part import NLUPart
from parley.project import load_project
from parley.training import train_project
from parley.validation import validate_project

NLU = """version: "3.1"
nlu:
- intent: remind
  examples: |
    - remind me to call John
    - remind me to call Mary tomorrow
    - please remind me to write to Alice
    - set a reminder to phone Bob
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
"""


def _project(folder: Path, model: str, nlu: str = NLU, spacy_tokens: bool = False) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "nlu.yml").write_text(nlu)
    (folder / "domain.yml").write_text(
        'version: "3.1"\nintents: [remind, greet]\nentities: [PERSON]\n'
    )
    tokenizer = "SpacyTokenizer" if spacy_tokens else "WhitespaceTokenizer"
    (folder / "config.yml").write_text(
        f"language: en\npipeline:\n- name: SpacyNLP\n  model: {model}\n- name: {tokenizer}\n"
        "- name: CountVectorsFeaturizer\n- name: DIETClassifier\n  epochs: 100\n"
        "- name: SpacyEntityExtractor\n  dimensions: [PERSON]\n- name: EntitySynonymMapper\n"
    )
    return folder


def _saved_spacy_pipeline(folder: Path) -> Path:
    """A small real spaCy pipeline (entity_ruler) saved to disk, as `spacy download` can't run
    here; SpacyNLP loads it by path like any model folder."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(  # type: ignore[attr-defined]
        [
            {"label": "PERSON", "pattern": "John"},
            {"label": "PERSON", "pattern": [{"LOWER": "greta"}, {"LOWER": "thunberg"}]},
            {"label": "GPE", "pattern": "Paris"},
        ]
    )
    nlp.to_disk(folder)
    return folder


def _train(project: Path, tmp_path: Path) -> Interpreter:
    return load(train_project(load_project(project), tmp_path / "models", parts=[NLUPart()]).model)


def _parse(project: Path, tmp_path: Path, text: str) -> dict:  # type: ignore[type-arg]
    return _train(project, tmp_path).parse(text)


def test_spacy_entities_come_from_the_real_spacy_pipeline_loaded_by_path(tmp_path: Path) -> None:
    _saved_spacy_pipeline(tmp_path / "spacy_model")
    # relative to the project folder
    project = _project(tmp_path / "bot", "../spacy_model", spacy_tokens=True)
    assert not [p for p in validate_project(project) if "Spacy" in p.message]
    interpreter = _train(project, tmp_path)
    tokens = interpreter.pipeline.process("I can't, John").tokens
    assert [(t.text, t.start) for t in tokens] == [
        ("I", 0), ("ca", 2), ("n't", 4), (",", 7), ("John", 9),
    ]  # fmt: skip
    result = interpreter.parse("remind me to call Greta Thunberg in Paris")
    assert result["intent"]["name"] == "remind"
    assert [
        (e["entity"], e["value"], e["start"], e["end"], e["extractor"]) for e in result["entities"]
    ] == [("PERSON", "Greta Thunberg", 18, 32, "SpacyEntityExtractor")]  # GPE is not a dimension


def test_missing_spacy_model_trains_and_says_so_once_per_component(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = _project(tmp_path / "bot", "en_core_web_md")
    with caplog.at_level(logging.WARNING):
        result = _parse(project, tmp_path, "remind me to call John")
    lines = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    spacy_lines = [m for m in lines if m.startswith(("SpacyNLP:", "SpacyEntityExtractor:"))]
    assert len(spacy_lines) == 2
    extractor_line = next(m for m in spacy_lines if m.startswith("SpacyEntityExtractor:"))
    assert "'en_core_web_md' is not installed" in extractor_line
    assert "python -m spacy download en_core_web_md" in extractor_line
    assert "PERSON are not extracted: the training data annotates none of them" in extractor_line
    assert result["intent"]["name"] == "remind" and result["entities"] == []
    warnings = [p for p in validate_project(project) if p.severity == "warning"]
    assert {p.message for p in warnings if "Spacy" in p.message} == set(spacy_lines)
    assert not [p for p in validate_project(project) if p.severity == "error"]


def test_without_spacy_the_crf_learns_person_where_the_data_annotates_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # the library is not installed
    annotated = (
        NLU.replace("call John", "call [John](PERSON)")
        .replace("call Mary", "call [Mary](PERSON)")
        .replace("to Alice", "to [Alice](PERSON)")
        .replace("phone Bob", "phone [Bob](PERSON)")
    )
    project = _project(tmp_path / "bot", "en_core_web_md", annotated, spacy_tokens=True)
    with caplog.at_level(logging.WARNING):
        result = _parse(project, tmp_path, "remind me to call Alice")
    assert (
        "SpacyTokenizer: spaCy is not installed (pip install 'parley[spacy]');"
        " Parley's WhitespaceTokenizer is used instead"
    ) in [r.message for r in caplog.records]
    line = next(r.message for r in caplog.records if r.message.startswith("SpacyEntityExtractor"))
    assert line == (
        "SpacyEntityExtractor: spaCy is not installed (pip install 'parley[spacy]');"
        " Parley's CRF extracts PERSON where the training data annotates them"
    )
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [("PERSON", "Alice")]


def test_spacy_entity_extractor_without_spacy_nlp_is_a_warning_not_an_error(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path / "bot", "x")
    config = (project / "config.yml").read_text().replace("- name: SpacyNLP\n  model: x\n", "")
    (project / "config.yml").write_text(config)
    problems = validate_project(project)
    assert not [p for p in problems if p.severity == "error"]
    assert any("no SpacyNLP comes before it" in p.message for p in problems)


def test_spacy_featurizer_appends_the_pooled_spacy_vectors(tmp_path: Path) -> None:
    model = _saved_spacy_pipeline(tmp_path / "spacy_model")
    spacy = pytest.importorskip("spacy")
    nlp = spacy.load(model)
    for word, vector in {"remind": [1, 0, 0], "call": [1, 0, 0], "hello": [0, 1, 0]}.items():
        nlp.vocab.set_vector(word, np.array(vector, dtype=np.float32))
    nlp.to_disk(model)
    project = _project(tmp_path / "bot", str(model), spacy_tokens=True)
    config = (project / "config.yml").read_text()
    config = config.replace(
        "- name: DIETClassifier", "- name: SpacyFeaturizer\n- name: DIETClassifier"
    )
    (project / "config.yml").write_text(config)
    interpreter = _train(project, tmp_path)
    assert "spacy_vectors" in [step.kind for step in interpreter.pipeline.steps]
    dense = interpreter.pipeline.process("remind me to call").dense
    assert dense is not None
    assert np.allclose(dense[-3:], [1, 0, 0])  # mean of remind, me (no vector), to, call
    assert interpreter.parse("hello")["intent"]["name"] == "greet"
