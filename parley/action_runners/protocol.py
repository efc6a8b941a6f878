"""Checking an action server's reply against Rasa's webhook protocol.

Request (built by `parley.dialogue.actions.remote.action_payload`): `{"next_action",
"sender_id", "tracker", "domain", "version"}`. Reply (200): `{"events": [...], "responses":
[...]}`; a rejection (400): `{"action_name", "error"}`. The JSON Schema of both is
docs/action-server.openapi.json.
"""

from __future__ import annotations

from typing import Any

from parley.action_runners.errors import BadActionReply


def check_reply(action_name: str, reply: Any) -> dict[str, Any]:
    """Return `{"events": [...], "responses": [...]}` or raise BadActionReply saying what is wrong."""
    if not isinstance(reply, dict):
        raise BadActionReply(
            action_name, f"reply must be a JSON object with 'events', got {type(reply).__name__}"
        )
    events = [] if reply.get("events") is None else reply["events"]
    responses = [] if reply.get("responses") is None else reply["responses"]
    if not isinstance(events, list) or not isinstance(responses, list):
        raise BadActionReply(action_name, "'events' and 'responses' must be lists")
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise BadActionReply(
                action_name, f"events[{index}] must be an object with an 'event' name: {event!r}"
            )
    for index, response in enumerate(responses):
        if not isinstance(response, dict):
            raise BadActionReply(action_name, f"responses[{index}] must be an object")
    return {"events": events, "responses": responses}
