from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu.lexical import EntityGazetteer, lexical_grams, word_shape
from parley.nlu.pipeline import build_steps
from parley.nlu.tokenizer import tokenize
from parley.project import ProjectError
from parley.project.config import parse_config
from parley.project.entities import EntityAnnotation
from parley.project.errors import ProblemSink
from parley.project.yamlio import read_yaml

RASA_DEFAULT = (("low", "title", "upper"), ("BOS", "EOS", "low", "upper", "title", "digit"),
                ("low", "title", "upper"))  # fmt: skip


def test_lexical_features_follow_rasas_window_around_each_token() -> None:
    grams = lexical_grams(tokenize("Call 5"), RASA_DEFAULT)
    # "Call": title-cased, first; its right neighbour "5" is not lower/title/upper
    assert {"0:title:True", "0:BOS:True", "0:EOS:False", "0:digit:False", "1:low:False"} <= set(
        grams
    )
    # "5": a digit at the end, with "Call" to its left
    assert {"0:digit:True", "0:EOS:True", "0:BOS:False", "-1:title:True"} <= set(grams)
    assert not [g for g in grams if g.startswith(("-2:", "2:"))]


def test_a_lone_number_is_digit_first_and_last() -> None:
    expected = ["0:BOS:True", "0:EOS:True", "0:low:False", "0:upper:False", "0:title:False"]
    assert sorted(lexical_grams(tokenize("5"), RASA_DEFAULT)) == sorted([*expected, "0:digit:True"])


def test_word_shape_lets_numbers_of_any_length_match() -> None:
    assert word_shape("5") == word_shape("120") == "d"
    assert word_shape("10.5") == "d.d"
    assert word_shape("AB12") == "Xd"


def test_entity_features_mark_annotated_values_shapes_and_short_answers() -> None:
    gazetteer = EntityGazetteer.learn(
        ["3 pizzas", "with ham"],
        [
            (EntityAnnotation(0, 1, "3", "quantity", "3"),),
            (EntityAnnotation(5, 8, "ham", "topping", "ham"),),
        ],
    )
    assert sorted(gazetteer.grams(tokenize("7"))) == ["all:quantity", "entity", "shape:quantity"]
    assert sorted(gazetteer.grams(tokenize("I have 7 cats"))) == [
        "entity", "shape:quantity", "word", "word", "word",
    ]  # fmt: skip
    assert "value:topping" in gazetteer.grams(tokenize("Ham please"))
    assert EntityGazetteer.from_json(gazetteer.as_json()) == gazetteer


def test_unknown_lexical_feature_names_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("pipeline:\n- name: LexicalSyntacticFeaturizer\n  features: [[low, digits]]\n")
    sink = ProblemSink()
    config = parse_config(path, read_yaml(path, sink), sink)
    with pytest.raises(ProjectError, match=r"unknown feature\(s\) digits; supported: .*digit"):
        build_steps(config)


@pytest.mark.parametrize(
    ("pipeline", "lexical", "entity_features"),
    [
        ("- name: LexicalSyntacticFeaturizer\n- name: DIETClassifier\n", True, True),
        ("- name: DIETClassifier\n  entity_recognition: false\n", False, False),
        ("- name: CRFEntityExtractor\n- name: SklearnIntentClassifier\n", False, False),
    ],
)
def test_lexical_and_entity_features_follow_the_configured_components(
    tmp_path: Path, pipeline: str, lexical: bool, entity_features: bool
) -> None:
    path = tmp_path / "config.yml"
    path.write_text("pipeline:\n- name: CountVectorsFeaturizer\n" + pipeline)
    sink = ProblemSink()
    sparse = build_steps(parse_config(path, read_yaml(path, sink), sink))[0].options
    assert (sparse["lexical"] is not None) == lexical
    assert sparse["entity_features"] == entity_features
