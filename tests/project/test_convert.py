"""`parley data convert nlu`: Rasa Markdown and JSON NLU data become equivalent 3.x YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.main import app
from parley.project.convert import read_json, read_markdown
from parley.project.errors import ProblemSink
from parley.project.loader import load_nlu_data

runner = CliRunner()

MARKDOWN = """<!-- a bot from 2020 -->
## intent:greet
- hey
- hello there

## intent:book_flight
- fly from [Berlin]{"entity": "city", "role": "from"} to [NYC](city:New York)
- a flight to [Paris](city)

## intent:faq/ask_hours
- when are you open?

## synonym:New York
- big apple

## regex:zipcode
- [0-9]{5}

## lookup:city
- Berlin
- Paris
"""


def test_markdown_converts_with_entities_roles_synonyms_regexes_and_lookups(
    tmp_path: Path,
) -> None:
    source = tmp_path / "nlu.md"
    source.write_text(MARKDOWN)
    result = runner.invoke(
        app, ["data", "convert", "nlu", "--data", str(source), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    converted = load_nlu_data([tmp_path / "out" / "nlu_converted.yml"])
    original = read_markdown(source, ProblemSink())
    assert [(e.text, e.intent, e.entities) for e in converted.examples] == [
        (e.text, e.intent, e.entities) for e in original.examples
    ]
    flight = converted.examples[2]
    assert flight.text == "fly from Berlin to NYC"
    assert [(a.entity, a.value, a.role) for a in flight.entities] == [
        ("city", "Berlin", "from"),
        ("city", "New York", None),
    ]
    assert converted.synonyms["big apple"] == "New York"
    assert converted.synonyms["nyc"] == "New York"
    assert [(r.name, r.patterns) for r in converted.regexes] == [("zipcode", ("[0-9]{5}",))]
    assert [(t.name, t.elements) for t in converted.lookups] == [("city", ("Berlin", "Paris"))]
    assert converted.examples[-1].intent == "faq/ask_hours"


def test_json_converts_with_offsets_and_lookup_files(tmp_path: Path) -> None:
    (tmp_path / "currencies.txt").write_text("euro\ndollar\n")
    data = {
        "rasa_nlu_data": {
            "common_examples": [
                {
                    "text": "pay 5 euro",
                    "intent": "pay",
                    "entities": [{"start": 6, "end": 10, "value": "EUR", "entity": "currency"}],
                },
                {"text": "hi", "intent": "greet", "entities": []},
            ],
            "entity_synonyms": [{"value": "EUR", "synonyms": ["euros"]}],
            "regex_features": [{"name": "amount", "pattern": "[0-9]+"}],
            "lookup_tables": [{"name": "currency", "elements": "currencies.txt"}],
        }
    }
    source = tmp_path / "old.json"
    source.write_text(json.dumps(data))
    result = runner.invoke(
        app, ["data", "convert", "nlu", "--data", str(tmp_path), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    converted = load_nlu_data([tmp_path / "out" / "old_converted.yml"])
    pay = converted.examples[0]
    assert (pay.text, pay.intent) == ("pay 5 euro", "pay")
    assert [(a.start, a.end, a.entity, a.value) for a in pay.entities] == [
        (6, 10, "currency", "EUR")
    ]
    assert converted.synonyms["euros"] == "EUR"
    assert converted.lookups[0].elements == ("euro", "dollar")


def test_broken_input_names_the_file_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "bad.md"
    source.write_text("## intent:greet\n- hi [there](\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["data", "convert", "nlu", "--data", str(source), "--out", str(out)]
    )
    assert result.exit_code != 0
    assert not (out / "bad_converted.yml").exists()
    with pytest.raises(ValueError, match="rasa_nlu_data"):
        bad_json = tmp_path / "x.json"
        bad_json.write_text('{"nlu": []}')
        read_json(bad_json, ProblemSink())
