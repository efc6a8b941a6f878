from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parley.nlu.pipeline import build_steps
from parley.project import ProjectError
from parley.project.config import parse_config
from parley.project.errors import ProblemSink
from parley.project.yamlio import read_yaml
from parley.validation import validate_project


def _config(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yml"
    path.write_text(text)
    sink = ProblemSink()
    return parse_config(path, read_yaml(path, sink), sink)


def test_unknown_component_error_names_the_place_and_what_is_supported(tmp_path: Path) -> None:
    config = _config(tmp_path, "pipeline:\n  - name: WhitespaceTokenizer\n  - name: BertMagic\n")
    with pytest.raises(ProjectError) as caught:
        build_steps(config)
    problem = caught.value.problems[0]
    assert problem.location.line == 3
    assert "unknown pipeline component 'BertMagic'" in problem.message
    assert "CRFEntityExtractor" in problem.message and "DIETClassifier" in problem.message


def test_unknown_option_error_lists_the_supported_options(tmp_path: Path) -> None:
    config = _config(tmp_path, "pipeline:\n  - name: FallbackClassifier\n    treshold: 0.5\n")
    with pytest.raises(ProjectError, match=r"unknown option.*treshold.*ambiguity_threshold"):
        build_steps(config)


def test_data_validate_reports_pipeline_problems(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("pipeline:\n  - name: NoSuchThing\n")
    (tmp_path / "domain.yml").write_text('version: "3.1"\nintents: [greet]\n')
    problems = validate_project(tmp_path)
    assert any(
        "NoSuchThing" in p.message and p.severity == "error" and p.location.line == 2
        for p in problems
    )


def test_spacy_and_language_model_configs_map_with_an_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(
        tmp_path,
        "pipeline:\n  - name: SpacyNLP\n    model: en_core_web_md\n  - name: SpacyTokenizer\n"
        "  - name: SpacyFeaturizer\n  - name: DIETClassifier\n",
    )
    with caplog.at_level(logging.INFO):
        steps = build_steps(config)
    assert next(s.kind for s in steps) == "sparse_features"
    assert "linear_intent" in [s.kind for s in steps]
    assert any("SpacyTokenizer" in r.message and r.levelno == logging.INFO for r in caplog.records)


def test_empty_pipeline_is_the_default_pipeline(tmp_path: Path) -> None:
    kinds = [s.kind for s in build_steps(_config(tmp_path, "language: en\n"))]
    assert kinds[0] == "sparse_features"
    for kind in ("linear_intent", "crf_entities", "synonyms", "response_selector", "fallback"):
        assert kind in kinds


def test_default_pipeline_adds_static_word_vectors_after_the_ngrams(tmp_path: Path) -> None:
    kinds = [s.kind for s in build_steps(_config(tmp_path, "language: en\n"))]
    assert kinds.index("static_vectors") == 1 < kinds.index("linear_intent")


def test_language_model_featurizer_without_the_extra_uses_static_word_vectors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from parley.nlu.registry import plan_pipeline

    config = _config(
        tmp_path,
        "pipeline:\n  - name: WhitespaceTokenizer\n  - name: LanguageModelFeaturizer\n"
        "  - name: CountVectorsFeaturizer\n  - name: DIETClassifier\n    kernel_weight: 0.3\n",
    )
    with caplog.at_level(logging.INFO):
        steps = plan_pipeline(config, ProblemSink(), dense_available=False)
    assert [s.kind for s in steps] == ["sparse_features", "static_vectors", "linear_intent",
                                       "crf_entities"]  # fmt: skip
    assert any("static word vectors are used instead" in r.message for r in caplog.records)
    with_extra = plan_pipeline(config, ProblemSink(), dense_available=True)
    assert "static_vectors" not in [s.kind for s in with_extra]


def test_static_word_vectors_option_typos_are_reported(tmp_path: Path) -> None:
    config = _config(tmp_path, "pipeline:\n  - name: StaticWordVectorsFeaturizer\n    wieght: 2\n")
    with pytest.raises(ProjectError, match=r"unknown option.*wieght.*weight"):
        build_steps(config)
