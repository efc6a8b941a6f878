from __future__ import annotations

from parley.nlu import Interpreter


def test_regex_and_lookup_tables_extract_annotated_entities(interpreter: Interpreter) -> None:
    found = [
        e
        for e in interpreter.parse("send it to 80331 with KLM please")["entities"]
        if e["extractor"] == "RegexEntityExtractor"
    ]
    assert {(e["entity"], e["value"]) for e in found} == {("zipcode", "80331"), ("airline", "KLM")}
    assert all("confidence_entity" not in e for e in found)
