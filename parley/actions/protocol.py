"""Rasa's action-server webhook protocol: the domain as JSON, and checking a server's reply.

Request: `{"next_action", "sender_id", "tracker", "domain", "version"}`. Reply (200):
`{"events": [...], "responses": [...]}`; a rejection (400): `{"action_name", "error"}`.
The JSON Schema of both is docs/action-server.openapi.json.
"""

from __future__ import annotations

from typing import Any

from parley.actions.errors import BadActionReply
from parley.project.domain import Domain, Slot, SlotMapping

# The Rasa version Parley speaks to action servers (rasa_sdk warns on another major.minor).
RASA_PROTOCOL_VERSION = "3.6.21"
DOMAIN_FORMAT_VERSION = "3.1"


def webhook_request(
    action_name: str,
    sender_id: str,
    tracker_state: dict[str, Any],
    domain: dict[str, Any],
    version: str = RASA_PROTOCOL_VERSION,
) -> dict[str, Any]:
    """The body Rasa POSTs to the action server to run `action_name`."""
    return {
        "next_action": action_name,
        "sender_id": sender_id,
        "tracker": tracker_state,
        "domain": domain,
        "version": version,
    }


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


def domain_as_json(domain: Domain) -> dict[str, Any]:
    """The domain as Rasa sends it to action servers (the domain file's shape, with defaults)."""
    return {
        "version": DOMAIN_FORMAT_VERSION,
        "config": {"store_entities_as_slots": True},
        "session_config": {
            "session_expiration_time": domain.session_config.session_expiration_time,
            "carry_over_slots_to_new_session": domain.session_config.carry_over_slots_to_new_session,
        },
        "intents": [_intent(i) for i in sorted(domain.intents, key=lambda i: i.name)],
        "entities": [_entity(e) for e in domain.entities],
        "slots": {s.name: _slot(s) for s in domain.slots},
        "responses": {
            name: [dict(v.raw) for v in variations] for name, variations in domain.responses.items()
        },
        "actions": list(domain.actions),
        "forms": {
            name: {
                "required_slots": list(form.required_slots),
                **({"ignored_intents": list(form.ignored_intents)} if form.ignored_intents else {}),
            }
            for name, form in domain.forms.items()
        },
        "e2e_actions": [],
    }


def _intent(intent: Any) -> Any:
    if intent.use_entities is None and not intent.ignore_entities:
        return intent.name
    props: dict[str, Any] = {}
    props["use_entities"] = True if intent.use_entities is None else list(intent.use_entities)
    if intent.ignore_entities:
        props["ignore_entities"] = list(intent.ignore_entities)
    return {intent.name: props}


def _entity(entity: Any) -> Any:
    if not entity.roles and not entity.groups and entity.influence_conversation:
        return entity.name
    props: dict[str, Any] = {}
    if entity.roles:
        props["roles"] = list(entity.roles)
    if entity.groups:
        props["groups"] = list(entity.groups)
    if not entity.influence_conversation:
        props["influence_conversation"] = False
    return {entity.name: props}


def _slot(slot: Slot) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": slot.type,
        "initial_value": slot.initial_value,
        "influence_conversation": slot.influence_conversation,
        "mappings": [_mapping(m) for m in slot.mappings],
    }
    if slot.type == "categorical":
        data["values"] = list(slot.values)
    if slot.type == "float":
        data["min_value"] = slot.min_value
        data["max_value"] = slot.max_value
    return data


def _mapping(mapping: SlotMapping) -> dict[str, Any]:
    data: dict[str, Any] = {"type": mapping.type}
    for key in ("entity", "role", "group", "action"):
        if getattr(mapping, key) is not None:
            data[key] = getattr(mapping, key)
    if mapping.intent:
        data["intent"] = list(mapping.intent)
    if mapping.not_intent:
        data["not_intent"] = list(mapping.not_intent)
    if mapping.type in ("from_intent", "from_trigger_intent"):
        data["value"] = mapping.value
    if mapping.conditions:
        data["conditions"] = [
            {
                k: v
                for k, v in (("active_loop", c.active_loop), ("requested_slot", c.requested_slot))
                if v
            }
            for c in mapping.conditions
        ]
    return data
