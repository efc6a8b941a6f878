from __future__ import annotations

from pathlib import Path

from parley.dialogue.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parley.project import load_project, load_stories
from parley.testing import story_cases
from tests.testing.conftest import write_project

STORIES = """
stories:
- story: book a trip
  steps:
  - user: |
      fly me to [Madrid](city)
    intent: inform
  - action: trip_form
  - active_loop: trip_form
  - or:
    - intent: goodbye
    - intent: greet
  - action: utter_goodbye
- story: faq
  steps:
  - user: how do I reset my VPN
    intent: faq/ask_vpn
  - action: utter_faq
"""


def _describe(event: object) -> str:
    if isinstance(event, ActionExecuted):
        return f"action {event.name}"
    if isinstance(event, UserUttered):
        return f"user {event.intent_name}"
    if isinstance(event, SlotSet):
        return f"slot {event.name}={event.value}"
    if isinstance(event, ActiveLoop):
        return f"loop {event.name}"
    return type(event).__name__


def test_test_story_becomes_rasa_turns_with_listens_and_entity_slots(trip_project: Path) -> None:
    stories_file = write_project(trip_project / "more", {"tests.yml": STORIES}) / "tests.yml"
    domain = load_project(trip_project).domain
    cases = story_cases(load_stories([stories_file]), domain)
    assert [c.name for c in cases] == ["book a trip", "book a trip", "faq"]
    first = cases[0]
    assert [_describe(t.event) for t in first.turns] == [
        "action action_listen",
        "user inform",
        "slot city=Madrid",
        "action trip_form",
        "loop trip_form",
        "action action_listen",
        "user goodbye",
        "action utter_goodbye",
        "action action_listen",
    ]
    # the runner adds the listens and the entity's slot; the story wrote the rest
    assert [i for i, t in enumerate(first.turns) if t.implicit] == [0, 2, 5, 8]
    assert first.source == str(stories_file)
    user = first.turns[1].event
    assert isinstance(user, UserUttered)
    assert user.text == "fly me to Madrid"
    assert user.entities == [{"start": 10, "end": 16, "value": "Madrid", "entity": "city"}]
    assert _describe(cases[1].turns[6].event) == "user greet"


def test_retrieval_intent_is_split_into_base_and_full_name(trip_project: Path) -> None:
    stories_file = write_project(trip_project / "faq", {"tests.yml": STORIES}) / "tests.yml"
    case = story_cases(load_stories([stories_file]), load_project(trip_project).domain)[-1]
    user = case.turns[1].event
    assert isinstance(user, UserUttered)
    assert user.parse_data["intent"]["name"] == "faq"
    assert user.parse_data["intent"]["full_retrieval_intent_name"] == "faq/ask_vpn"
