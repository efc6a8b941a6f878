from __future__ import annotations

from pathlib import Path

from parley.nlu.pipeline import Pipeline
from parley.project import NLUData, NLUExample
from parley.project.config import ComponentConfig, ProjectConfig


def _data(*pairs: tuple[str, str]) -> NLUData:
    return NLUData(tuple(NLUExample(text, intent) for text, intent in pairs))


def test_keyword_classifier_matches_whole_words_case_insensitively() -> None:
    config = ProjectConfig(
        pipeline=(ComponentConfig("KeywordIntentClassifier", {"case_sensitive": False}),)
    )
    pipeline = Pipeline.train(config, _data(("hello", "greet"), ("bye", "goodbye")))
    assert pipeline.parse("Hello you")["intent"] == {"name": "greet", "confidence": 1.0}
    assert pipeline.parse("byebye")["intent"] == {"name": None, "confidence": 0.0}


def test_ranking_holds_at_most_ten_intents_and_persists(tmp_path: Path) -> None:
    pairs = [(f"word{i} thing{i} stuff{i}", f"intent{i}") for i in range(14)]
    pairs += [(f"thing{i} word{i}", f"intent{i}") for i in range(14)]
    pipeline = Pipeline.train(ProjectConfig(), _data(*pairs))
    result = pipeline.parse("word3 thing3")
    assert result["intent"]["name"] == "intent3"
    assert len(result["intent_ranking"]) == 10
    pipeline.persist(tmp_path / "nlu")
    assert Pipeline.load(tmp_path / "nlu").parse("word3 thing3") == result


def test_a_single_intent_is_always_predicted() -> None:
    pipeline = Pipeline.train(ProjectConfig(), _data(("hi", "greet"), ("hello", "greet")))
    result = pipeline.parse("anything")
    assert result["intent"]["name"] == "greet"
