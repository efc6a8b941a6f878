"""The states policies see of a live conversation, kept up to date turn by turn."""

from __future__ import annotations

from pathlib import Path

from parley.dialogue.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SlotSet,
    UserUttered,
)
from parley.dialogue.slots import slot_defaults
from parley.dialogue.state import states_and_actions, tracker_states
from parley.dialogue.tracker import Tracker
from tests.dialogue.test_policies import _project


def _user(intent: str) -> UserUttered:
    return UserUttered(text=intent, parse_data={"intent": {"name": intent, "confidence": 1.0}})


def _turn(intent: str, action: str) -> list[Event]:
    return [_user(intent), ActionExecuted(name=action), BotUttered(text="ok")]


def test_states_kept_turn_by_turn_equal_a_replay_of_the_whole_conversation(
    tmp_path: Path,
) -> None:
    """Asked after every event (twice, as the ensemble and the rule policy do), through slots
    and a restart: always the states a replay from the first event gives."""
    domain = _project(tmp_path).domain
    tracker = Tracker("t", slot_defaults(domain))
    events: list[Event] = [ActionExecuted(name="action_listen")]
    for i in range(30):
        events += _turn("greet" if i % 3 else "ask_price", "utter_greet")
        events += [SlotSet(name="vip", value=i % 2 == 0), ActionExecuted(name="action_listen")]
        if i == 20:
            events += [Restarted(), ActionExecuted(name="action_listen")]
    for event in events:
        tracker.update(event)
        expected, _ = states_and_actions(tracker.applied_events(), domain)
        assert tracker_states(tracker, domain) == expected
        assert tracker_states(tracker, domain) == expected


def test_augmented_memoization_recalls_after_a_long_unrelated_beginning(tmp_path: Path) -> None:
    from parley.dialogue.policies import AugmentedMemoizationPolicy, TrainingData
    from parley.dialogue.training_data import training_stories

    project = _project(tmp_path)
    policy = AugmentedMemoizationPolicy({"max_history": 5})
    policy.train(TrainingData(training_stories(project.stories), project.rules, project.domain))
    tracker = Tracker("t", slot_defaults(project.domain))
    tracker.update(ActionExecuted(name="action_listen"))
    for _ in range(200):
        chitchat = [_user("chitchat"), ActionExecuted(name="utter_chitchat")]
        tracker.update_all([*chitchat, ActionExecuted(name="action_listen")])
    tracker.update(_user("goodbye"))
    states = tracker_states(tracker, project.domain)
    assert policy.predict(tracker, states, project.domain).action == "utter_goodbye"


def test_equal_states_are_shared_and_only_truly_equal_ones() -> None:
    from parley.dialogue.state import shared_state

    first = shared_state({"prev_action": {"action_name": "utter_greet"}, "slots": {"vip": 1.0}})
    again = shared_state({"slots": {"vip": 1.0}, "prev_action": {"action_name": "utter_greet"}})
    assert again is first
    # equal for ==, not for a state's JSON: kept apart
    as_bool = shared_state({"prev_action": {"action_name": "utter_greet"}, "slots": {"vip": True}})
    assert as_bool is not first and as_bool["slots"]["vip"] is True
    nan = shared_state({"slots": {"level": float("nan")}})
    null = shared_state({"slots": {"level": None}})
    assert null["slots"]["level"] is None and nan is not null
