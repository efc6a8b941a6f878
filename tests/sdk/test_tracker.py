from __future__ import annotations

from parley.sdk import Tracker
from tests.action_runners.support import slot_event, tracker_state, user_event


def entity(name: str, value: str, role: str | None = None) -> dict[str, object]:
    return {"entity": name, "value": value, "role": role, "group": None}


def test_reads_slots_entities_channel_and_intent() -> None:
    message = user_event("send 5 to bob", "transfer_money")
    message["parse_data"]["entities"] = [entity("amount", "5"), entity("city", "Paris", "to")]
    tracker = Tracker.from_dict(
        tracker_state(slots={"amount": "5"}, events=[message], latest_message=message["parse_data"])
    )
    assert tracker.get_slot("amount") == "5"
    assert tracker.get_slot("missing") is None
    assert list(tracker.get_latest_entity_values("amount")) == ["5"]
    assert list(tracker.get_latest_entity_values("city")) == []
    assert list(tracker.get_latest_entity_values("city", entity_role="to")) == ["Paris"]
    assert tracker.get_latest_input_channel() == "rest"
    assert tracker.get_intent_of_latest_message() == "transfer_money"
    assert tracker.active_loop_name is None


def test_slots_to_validate_are_the_trailing_slot_events() -> None:
    events = [slot_event("a", 1), user_event("x", "inform"), slot_event("b", 2), slot_event("c", 3)]
    assert Tracker.from_dict(tracker_state(events=events)).slots_to_validate() == {"b": 2, "c": 3}


def test_applied_events_honour_restart_undo_and_rewind() -> None:
    action = {"event": "action", "name": "utter_greet", "timestamp": 1.0}
    listen = {"event": "action", "name": "action_listen", "timestamp": 1.0}
    events = [
        user_event("old", "greet"),
        {"event": "restart", "timestamp": 1.0},
        listen,
        user_event("hi", "greet"),
        action,
        {"event": "undo", "timestamp": 1.0},
        listen,
        user_event("typo", "deny"),
        {"event": "rewind", "timestamp": 1.0},
    ]
    tracker = Tracker.from_dict(tracker_state(events=events))
    assert [e.get("text") or e.get("name") for e in tracker.applied_events()] == [
        "action_listen",
        "hi",
    ]
    assert tracker.idx_after_latest_restart() == 2
