"""`parley data migrate`: a Rasa 2.x domain becomes a 3.x domain Parley (and Rasa 3) loads."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from parley.cli.main import app
from parley.project.migrate import MigrationError, migrate_domain

runner = CliRunner()

DOMAIN_2X = """version: "2.0"
# intents of the restaurant bot
intents:
  - request_restaurant
  - inform
entities:
  - cuisine
  - number
slots:
  cuisine:          # filled by the form and by the entity
    type: text
  num_people:
    type: float
  outdoor_seating:
    type: bool
    auto_fill: false
  number:
    type: float
  feedback:
    type: text
forms:
  restaurant_form:
    ignored_intents:
      - chitchat
    required_slots:
      cuisine:
        - type: from_entity
          entity: cuisine
      num_people:
        - type: from_entity
          entity: number
        - type: from_text
      outdoor_seating:
        - type: from_intent
          intent: affirm
          value: true
responses:
  utter_ask_cuisine:
    - text: "What cuisine?"
"""


def _load(text: str) -> dict:
    return YAML(typ="safe").load(text)


def test_form_mappings_move_to_the_slots_with_rasas_conditions() -> None:
    result = migrate_domain(DOMAIN_2X)
    domain = _load(result.text)
    assert domain["version"] == "3.1"
    assert domain["forms"] == {
        "restaurant_form": {
            "required_slots": ["cuisine", "num_people", "outdoor_seating"],
            "ignored_intents": ["chitchat"],
        }
    }
    slots = domain["slots"]
    assert slots["cuisine"]["mappings"] == [
        {
            "type": "from_entity",
            "entity": "cuisine",
            "conditions": [{"active_loop": "restaurant_form"}],
        },
        # named like an entity: also filled from it outside the form (Rasa's auto_fill)
        {"type": "from_entity", "entity": "cuisine"},
    ]
    assert slots["num_people"]["mappings"] == [  # not an entity's name: the form's only
        {
            "type": "from_entity",
            "entity": "number",
            "conditions": [{"active_loop": "restaurant_form"}],
        },
        {
            "type": "from_text",
            "conditions": [{"active_loop": "restaurant_form", "requested_slot": "num_people"}],
        },
    ]
    assert slots["outdoor_seating"]["mappings"][0]["conditions"] == [
        {"active_loop": "restaurant_form", "requested_slot": "outdoor_seating"}
    ]
    assert "auto_fill" not in slots["outdoor_seating"]
    # named like an entity, auto_fill not switched off: filled from that entity everywhere
    assert slots["number"]["mappings"] == [{"type": "from_entity", "entity": "number"}]
    # nothing fills it: custom actions do, and the user is told to check
    assert slots["feedback"]["mappings"] == [{"type": "custom"}]
    assert any("feedback" in w for w in result.warnings)
    assert "# intents of the restaurant bot" in result.text  # comments kept
    assert "# filled by the form and by the entity" in result.text


def test_a_3x_domain_is_refused_and_the_command_keeps_the_original(tmp_path: Path) -> None:
    try:
        migrate_domain('version: "3.1"\nintents: [greet]\n')
    except MigrationError as exc:
        assert "already in the 3.x format" in str(exc)
    else:
        raise AssertionError("a 3.x domain was migrated")
    source = tmp_path / "domain.yml"
    source.write_text(DOMAIN_2X)
    result = runner.invoke(app, ["data", "migrate", "--domain", str(source)])
    assert result.exit_code == 0, result.output
    assert source.read_text() == DOMAIN_2X
    migrated = tmp_path / "new_domain.yml"
    assert _load(migrated.read_text())["version"] == "3.1"
    again = runner.invoke(app, ["data", "migrate", "--domain", str(source)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_the_migrated_domain_reads_without_problems(tmp_path: Path) -> None:
    from parley.project.domain_reader import parse_domain
    from parley.project.errors import ProblemSink
    from parley.project.yamlio import read_yaml

    path = tmp_path / "domain.yml"
    path.write_text(migrate_domain(DOMAIN_2X).text)
    sink = ProblemSink()
    domain = parse_domain(path, read_yaml(path, sink), sink)
    assert not sink.has_errors, [str(p) for p in sink.problems]
    assert domain.forms["restaurant_form"].required_slots == (
        "cuisine",
        "num_people",
        "outdoor_seating",
    )
