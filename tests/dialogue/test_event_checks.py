"""Events are checked, shape and domain, before any is stored; stored ones that cannot be
applied are left out when loaded instead of failing every later turn."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from parley.dialogue.event_checks import EventCheckError, check_events, loadable_events
from parley.project.domain import Domain, Form, Intent, Slot

DOMAIN = Domain(
    intents=(Intent("greet"),),
    slots=(
        Slot("flag", "bool"),
        Slot("amount", "float"),
        Slot("items", "list"),
        Slot("name", "text"),
    ),
    responses={"utter_greet": ()},
    actions=("action_custom",),
    forms={"booking_form": Form("booking_form")},
)
GOOD: list[dict[str, Any]] = [
    {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}},
    {"event": "action", "name": "utter_greet", "policy": "rule", "confidence": 1.0},
    {"event": "bot", "text": "Hello", "data": {"buttons": []}},
    {"event": "slot", "name": "flag", "value": "yes"},
    {"event": "slot", "name": "amount", "value": "3.5"},
    {"event": "slot", "name": "items", "value": ["a"]},
    {"event": "slot", "name": "requested_slot", "value": "name"},
    {"event": "active_loop", "name": "booking_form"},
    {"event": "active_loop", "name": None},
    {"event": "reminder", "intent": "greet", "date_time": "2030-01-01T10:00:00+00:00"},
    {"event": "cancel_reminder", "name": "r1"},
    {"event": "action", "name": "action_listen", "timestamp": 1700000000.5},
    {"event": "restart", "metadata": {"event_id": "abc"}},
]


def test_events_of_every_kind_pass_as_they_are() -> None:
    assert check_events(GOOD, DOMAIN) == GOOD


@pytest.mark.parametrize(
    ("event", "field", "says"),
    [
        ({"event": "user", "parse_data": "greet"}, "parse_data", "must be an object"),
        ({"event": "user", "parse_data": {"intent": ["greet"]}}, "parse_data", "'intent'"),
        ({"event": "user", "parse_data": {"entities": [1]}}, "parse_data", "item 0"),
        ({"event": "user", "text": 5}, "text", "must be a string"),
        ({"event": "action", "name": 12}, "name", "must be a string"),
        ({"event": "action", "name": "action_nope"}, "name", "not in the domain"),
        ({"event": "followup", "name": "utter_nope"}, "name", "not in the domain"),
        ({"event": "slot", "name": "nope", "value": 1}, "name", "not in the domain"),
        ({"event": "slot", "value": 1}, "name", "needs 'name'"),
        ({"event": "slot", "name": "flag", "value": {"a": 1}}, "value", "bool"),
        ({"event": "slot", "name": "amount", "value": "lots"}, "value", "float"),
        ({"event": "slot", "name": "items", "value": "a"}, "value", "list"),
        (
            {"event": "action", "name": "action_listen", "timestamp": float("inf")},
            "timestamp",
            "finite",
        ),
        ({"event": "restart", "timestamp": 1e300}, "timestamp", "seconds since 1970"),
        ({"event": "reminder", "intent": "greet", "date_time": "next tuesday"}, "date_time", "ISO"),
        ({"event": "reminder", "intent": "nope", "date_time": "2030-01-01"}, "intent", "domain"),
        ({"event": "restart", "metadata": "x"}, "metadata", "must be an object"),
        ({"event": "restart", "metadata": {"event_id": "x" * 65}}, "metadata", "64"),
        ({"event": "bot", "text": "lone \ud800"}, "text", "not valid Unicode"),
        ({"event": "bot", "text": "nul \x00"}, "text", "not valid Unicode"),
        ({"event": "bot", "data": {"n": float("nan")}}, "data", "not finite"),
        ({"event": "bot", "data": {"n": 2**70}}, "data", "64 bits"),
        ({"event": "not_a_type"}, "event", "unknown event type"),
        ({"event": 3}, "event", "unknown event type"),
    ],
)
def test_a_bad_event_is_named_by_index_and_field(
    event: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(EventCheckError) as caught:
        check_events([GOOD[0], event], DOMAIN)
    assert caught.value.problem.index == 1
    assert caught.value.problem.field == field
    assert says in str(caught.value) and str(caught.value).startswith("event 1, field")


def test_deeply_nested_values_are_refused() -> None:
    value: Any = "x"
    for _ in range(40):
        value = [value]
    with pytest.raises(EventCheckError, match="nested"):
        check_events([{"event": "bot", "data": {"v": value}}])


def test_unknown_event_types_pass_only_when_allowed() -> None:
    flow = {"event": "flow_started", "flow_id": "x"}
    assert check_events([flow], allow_unknown=True) == [flow]
    with pytest.raises(EventCheckError):
        check_events([flow])


def test_stored_events_that_cannot_be_applied_are_left_out_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored = [GOOD[0], {"event": "user", "parse_data": "x"}, {"event": "flow_started"}, GOOD[1]]
    with caplog.at_level(logging.ERROR):
        kept = loadable_events(stored, "conv-1")
    assert kept == [GOOD[0], {"event": "flow_started"}, GOOD[1]]
    assert "stored event 1 is left out" in caplog.text and "parse_data" in caplog.text
