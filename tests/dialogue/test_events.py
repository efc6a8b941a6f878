from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.dialogue.events import (
    ActiveLoop,
    EventError,
    LoopInterrupted,
    SlotSet,
    UnknownEvent,
    UserUttered,
    event_from_dict,
    stamp,
)
from parley.dialogue.tracker import Tracker

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "rasa_tracker_dump.json"


def test_rasa_tracker_dump_round_trips_exactly() -> None:
    events = json.loads(DUMP.read_text())["events"]
    assert [event_from_dict(e).as_dict() for e in events] == events


def test_unknown_event_types_are_kept_as_they_came() -> None:
    raw = {"event": "flow_started", "timestamp": 1.0, "flow_id": "x", "metadata": {}}
    event = event_from_dict(raw)
    assert isinstance(event, UnknownEvent)
    assert event.as_dict() == raw


def test_user_event_keeps_the_full_parse() -> None:
    events = json.loads(DUMP.read_text())["events"]
    user = event_from_dict(events[4])
    assert isinstance(user, UserUttered)
    assert user.intent_name == "order_pizza"
    assert user.parse_data["intent_ranking"][1] == {"name": "greet", "confidence": 0.04}
    assert user.parse_data["response_selector"]["default"]["ranking"] == []


def test_legacy_form_events_read_as_their_new_types() -> None:
    assert isinstance(event_from_dict({"event": "form", "name": "f", "timestamp": 1}), ActiveLoop)
    legacy = event_from_dict({"event": "form_validation", "validate": False, "timestamp": 1})
    assert isinstance(legacy, LoopInterrupted) and legacy.is_interrupted
    assert legacy.as_dict()["event"] == "loop_interrupted"


def test_malformed_event_is_refused_with_a_message() -> None:
    with pytest.raises(EventError, match="'event' key"):
        event_from_dict({"name": "x"})
    with pytest.raises(EventError, match="needs 'name'"):
        event_from_dict({"event": "slot", "value": 1})


def test_stamp_gives_model_id_and_a_unique_event_id() -> None:
    first, second = stamp([SlotSet(name="a", value=1), SlotSet(name="b", value=2)], "m-1")
    assert first.metadata["model_id"] == second.metadata["model_id"] == "m-1"
    assert len(first.metadata["event_id"]) == 32
    assert first.metadata["event_id"] != second.metadata["event_id"]
    assert first.as_dict()["metadata"]["model_id"] == "m-1"


def test_tracker_from_dump_has_rasa_state() -> None:
    events = json.loads(DUMP.read_text())["events"]
    tracker = Tracker.from_dicts("c0ffee", events[:19])  # up to the followup
    assert tracker.active_loop_name == "pizza_form"
    assert tracker.active_loop["rejected"] is True
    assert tracker.active_loop["validate"] is False
    assert tracker.followup_action == "pizza_form"
    assert tracker.slots == {
        "session_started_metadata": {"channel": "web"},
        "size": "large",
        "requested_slot": "topping",
    }
    assert tracker.latest_message is not None
    assert tracker.latest_message.entities == [{"entity": "mood", "value": "curious"}]
    state = tracker.current_state()
    assert set(state) == {
        "sender_id", "slots", "latest_message", "latest_event_time", "followup_action",
        "paused", "events", "latest_input_channel", "active_loop", "latest_action",
        "latest_action_name",
    }  # fmt: skip
    assert state["latest_action_name"] == "utter_iamabot"
    assert state["events"] == events[:19]
    assert state["latest_message"]["intent"]["name"] == "bot_challenge"


def test_restart_at_the_end_of_the_dump_resets_everything() -> None:
    events = json.loads(DUMP.read_text())["events"]
    tracker = Tracker.from_dicts("c0ffee", events)
    assert tracker.slots == {}
    assert tracker.active_loop == {}
    assert tracker.followup_action == "action_session_start"
    assert tracker.applied_events() == []


def test_as_dict_copies_unless_told_the_result_is_only_serialised() -> None:
    from parley.dialogue.events import UserUttered

    event = UserUttered(text="hi", parse_data={"intent": {"name": "greet", "confidence": 0.9}})
    copied = event.as_dict()
    copied["parse_data"]["intent"]["name"] = "changed"
    assert event.parse_data["intent"]["name"] == "greet"
    shared = event.as_dict(copy=False)
    assert shared == event.as_dict()
    assert shared["parse_data"] is event.parse_data


def test_a_packed_user_event_is_the_same_event() -> None:
    """What the tracker cache does to messages a conversation moved past changes nothing one
    can read: the same JSON (keys in the same order), equal, the same parse when read."""
    import copy

    events = json.loads(DUMP.read_text())["events"]
    original = event_from_dict(events[4])
    event = event_from_dict(events[4])
    assert isinstance(event, UserUttered) and event.pack() and event.packed
    assert event.as_dict() == events[4]
    assert list(event.as_dict(copy=False)) == list(original.as_dict())
    assert json.dumps(event.as_dict()) == json.dumps(original.as_dict())
    assert event.packed  # serialising does not unpack
    assert copy.deepcopy(event) == original
    assert event == original
    assert event.intent_name == "order_pizza" and not event.packed  # read: unpacked for good
    event.parse_data["intent"]["name"] = "changed"  # a change to the parse sticks
    assert event.intent_name == "changed"


def test_a_parse_json_would_change_is_not_packed() -> None:
    for parse in (
        {"intent": {"name": "greet", "confidence": float("nan")}},
        {"intent": {"name": "greet"}, "entities": ("a", "tuple")},
        {"intent": {"name": "greet"}, "scores": {1: 0.5}},
    ):
        event = UserUttered(text="hi", parse_data=parse)
        assert not event.pack() and not event.packed
        assert event.parse_data is parse


def test_a_tracker_packs_every_message_but_the_latest() -> None:
    from parley.dialogue.events import ActionExecuted

    def user(intent: str) -> UserUttered:
        parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": []}
        return UserUttered(text=intent, parse_data=parse)

    tracker = Tracker("t")
    for intent in ["greet", "affirm", "deny"]:
        tracker.update_all([user(intent), ActionExecuted(name="action_listen")])
        tracker.pack_history()
    before = tracker.current_state()
    users = [e for e in tracker.events if isinstance(e, UserUttered)]
    assert [u.packed for u in users] == [True, True, False]
    assert tracker.latest_message is users[-1]
    tracker.update_all([user("bye"), ActionExecuted(name="action_listen")])
    tracker.pack_history()
    assert [u.packed for u in users] == [True, True, True]
    assert tracker.current_state()["events"][: len(before["events"])] == before["events"]
