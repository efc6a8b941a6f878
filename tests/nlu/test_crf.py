from __future__ import annotations

from parley.nlu import Interpreter


def _entities(interpreter: Interpreter, text: str, extractor: str) -> list[dict[str, object]]:
    return [e for e in interpreter.parse(text)["entities"] if e["extractor"] == extractor]


def test_crf_extracts_entities_with_roles_and_spans(interpreter: Interpreter) -> None:
    text = "book a flight from Berlin to Rome"
    found = {e["role"]: e for e in _entities(interpreter, text, "DIETClassifier")}
    assert found["departure"]["value"] == "Berlin" and found["destination"]["value"] == "Rome"
    departure = found["departure"]
    assert text[departure["start"] : departure["end"]] == "Berlin"  # type: ignore[misc]
    assert departure["entity"] == "city"
    assert 0.0 < departure["confidence_entity"] <= 1.0  # type: ignore[operator]


def test_crf_entities_pass_through_the_synonym_mapper(interpreter: Interpreter) -> None:
    found = _entities(interpreter, "flight from NYC to Boston", "DIETClassifier")
    nyc = next(e for e in found if e.get("role") == "departure")
    assert nyc["value"] == "New York" and nyc["processors"] == ["EntitySynonymMapper"]
