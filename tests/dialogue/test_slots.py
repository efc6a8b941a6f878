from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.dialogue.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parley.dialogue.intent_message import parse_intent_message
from parley.dialogue.slots import extract_slots, slot_defaults
from parley.dialogue.tracker import Tracker
from parley.project import load_project
from tests.dialogue.conftest import write_project

DOMAIN = """
intents:
- book
- inform
- chitchat:
    use_entities: []
- affirm
entities:
- city:
    roles: [from, to]
- count
slots:
  origin:
    type: text
    mappings: [{type: from_entity, entity: city, role: from}]
  destination:
    type: text
    mappings: [{type: from_entity, entity: city, role: to}]
  people:
    type: list
    mappings: [{type: from_entity, entity: count, intent: [book, inform]}]
  note:
    type: text
    mappings:
    - type: from_text
      not_intent: [affirm]
      conditions: [{active_loop: booking_form, requested_slot: note}]
  confirmed:
    type: bool
    mappings: [{type: from_intent, intent: affirm, value: true}]
forms:
  booking_form:
    required_slots: [origin, note]
"""


def _tracker(tmp_path: Path, text: str, *before: Any) -> tuple[Tracker, Any]:
    domain = load_project(write_project(tmp_path / "p", {"domain.yml": DOMAIN})).domain
    tracker = Tracker("t", slot_defaults(domain))
    tracker.update_all([*before, ActionExecuted(name="action_listen")])
    parse = parse_intent_message(text) or {"text": text, "intent": {"name": None}, "entities": []}
    tracker.update(UserUttered(text=text, parse_data=parse))
    return tracker, domain


def _values(tracker: Tracker, domain: Any) -> dict[str, Any]:
    return {e.name: e.value for e in extract_slots(tracker, domain)}


def test_intent_message_with_entities_and_confidence() -> None:
    parsed = parse_intent_message('/inform@0.8{"city": ["Oslo", "Rome"], "count": 2}')
    assert parsed is not None
    assert parsed["intent"] == {"name": "inform", "confidence": 0.8}
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [
        ("city", "Oslo"),
        ("city", "Rome"),
        ("count", 2),
    ]
    assert parse_intent_message("/greet")["intent"]["confidence"] == 1.0  # type: ignore[index]
    assert parse_intent_message("hello /greet") is None


def test_entity_roles_fill_their_own_slots(tmp_path: Path) -> None:
    text = '/book{"city": "Oslo"}'
    tracker, domain = _tracker(tmp_path, text)
    tracker.latest_message.parse_data["entities"] = [  # type: ignore[union-attr]
        {"entity": "city", "value": "Oslo", "role": "from"},
        {"entity": "city", "value": "Rome", "role": "to"},
        {"entity": "count", "value": "2"},
    ]
    assert _values(tracker, domain) == {"origin": "Oslo", "destination": "Rome", "people": ["2"]}


def test_intent_filters_and_ignored_entities(tmp_path: Path) -> None:
    tracker, domain = _tracker(tmp_path, '/chitchat{"count": 3}')
    assert _values(tracker, domain) == {}  # chitchat uses no entities
    tracker, domain = _tracker(tmp_path, "/affirm")
    assert _values(tracker, domain) == {"confirmed": True}


def test_from_text_only_under_its_condition(tmp_path: Path) -> None:
    tracker, domain = _tracker(tmp_path, "window seat please")
    assert _values(tracker, domain) == {}
    active = [ActiveLoop(name="booking_form"), SlotSet(name="requested_slot", value="note")]
    tracker, domain = _tracker(tmp_path, "window seat please", *active)
    assert _values(tracker, domain) == {"note": "window seat please"}


def test_rewind_and_undo_revert_like_rasa() -> None:
    tracker = Tracker("t")
    tracker.update_all(
        [
            ActionExecuted(name="action_listen"),
            UserUttered(text="a", parse_data={"intent": {"name": "a"}}),
            ActionExecuted(name="utter_a"),
            SlotSet(name="x", value=1),
            ActionExecuted(name="action_listen"),
            UserUttered(text="b", parse_data={"intent": {"name": "b"}}),
        ]
    )
    from parley.dialogue.events import ActionReverted, UserUtteranceReverted

    tracker.update(UserUtteranceReverted())
    assert tracker.latest_intent == "a" and tracker.latest_action_name == "utter_a"
    tracker.update(ActionReverted())
    assert tracker.latest_action_name == "action_listen"
    assert tracker.get_slot("x") is None


def test_bool_slot_featurizes_as_rasas_bool_from_any() -> None:
    from parley.dialogue.slots import feature_value
    from parley.project.domain import Slot

    slot = Slot("confirmed", "bool")
    values = [True, False, 1, 0, 2, "1", "0", "true", " False ", "yes", None]
    assert [feature_value(slot, v) for v in values] == [
        True, False, True, False, False, True, False, True, False, None, None
    ]  # fmt: skip
