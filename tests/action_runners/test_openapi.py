"""docs/action-server.openapi.json describes what Parley really sends and accepts."""

from __future__ import annotations

import json

import pytest

from tests.action_runners.support import (
    OPENAPI,
    bank_request,
    protocol_validator,
    slot_event,
    user_event,
)


def test_document_is_openapi_31_with_the_three_endpoints() -> None:
    document = json.loads(OPENAPI.read_text())
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/webhook", "/health", "/actions"}
    assert set(document["paths"]["/webhook"]["post"]["responses"]) >= {"200", "400", "401", "404"}


def test_requests_parley_builds_match_the_schema() -> None:
    validator = protocol_validator("WebhookRequest")
    request = bank_request(
        "validate_transfer_form",
        slots={"amount": "5"},
        events=[
            {"event": "action", "name": "action_listen", "timestamp": 1.0},
            user_event("send 5", "transfer_money", [{"entity": "amount", "value": "5"}]),
            slot_event("amount", "5"),
        ],
        active_loop="transfer_form",
    )
    assert list(validator.iter_errors(request)) == []


@pytest.mark.parametrize(
    "event",
    [
        {"event": "slot", "value": 1},
        {"event": "followup"},
        {"event": "reminder", "intent": "x"},
        {"name": "x"},
        {"event": "active_loop", "name": 3},
    ],
)
def test_schema_refuses_malformed_events(event: dict[str, object]) -> None:
    reply = {"events": [event], "responses": []}
    assert list(protocol_validator("WebhookReply").iter_errors(reply)) != []
