"""Slots: initial values, how a value shows in the dialogue state, and filling from mappings."""

from __future__ import annotations

from typing import Any

from parley.dialogue.events import SlotSet
from parley.dialogue.tracker import REQUESTED_SLOT, SESSION_STARTED_METADATA, Tracker
from parley.project.domain import Domain, Slot, SlotMapping

SET = "set"  # state value of a text/list slot holding something
OTHER = "__other__"  # categorical slot holding a value outside its list


def slot_defaults(domain: Domain) -> dict[str, Any]:
    """Every slot of the domain with its initial value, plus the slots Rasa always adds."""
    defaults = {slot.name: slot.initial_value for slot in domain.slots}
    defaults.setdefault(REQUESTED_SLOT, None)
    defaults.setdefault(SESSION_STARTED_METADATA, None)
    return defaults


def _as_bool(value: Any) -> bool | None:
    """Rasa's `bool_from_any`: True/False, numbers (1 is true), numeric strings, "true"/"false";
    anything else does not featurize (None)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value == 1.0)
    if isinstance(value, str):
        if value.isnumeric():
            return float(value) == 1.0
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return None


def feature_value(slot: Slot, value: Any, force: bool = False) -> Any:
    """How `value` shows in the dialogue state; None: the slot does not show.

    `force` shows slots that do not influence the conversation too (rules may test them).
    """
    if value is None or (not slot.influence_conversation and not force):
        return None
    if slot.type == "any":
        return SET if force else None
        return None
    if slot.type == "text":
        return SET
    if slot.type == "list":
        return SET if value else None
    if slot.type == "bool":
        return _as_bool(value)
    if slot.type == "categorical":
        text = str(value).lower() if not isinstance(value, str) else value.lower()
        return text if text in {v.lower() for v in slot.values} else OTHER
    if slot.type == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        span = slot.max_value - slot.min_value or 1.0
        clipped = min(max(number, slot.min_value), slot.max_value)
        return round((clipped - slot.min_value) / span, 2)
    return SET


def slot_state(domain: Domain, values: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """The `slots` part of a dialogue state."""
    out: dict[str, Any] = {}
    for slot in domain.slots:
        feature = feature_value(slot, values.get(slot.name), force)
        if feature is not None:
            out[slot.name] = feature
    return out


def _conditions_met(mapping: SlotMapping, tracker: Tracker) -> bool:
    if not mapping.conditions:
        return True
    loop = tracker.active_loop_name
    requested = tracker.get_slot(REQUESTED_SLOT)
    return any(
        c.active_loop == loop and (c.requested_slot is None or c.requested_slot == requested)
        for c in mapping.conditions
    )


def _intent_allowed(mapping: SlotMapping, intent: str | None) -> bool:
    if mapping.intent and intent not in mapping.intent:
        return False
    return not (mapping.not_intent and intent in mapping.not_intent)


def entity_values(
    entities: list[dict[str, Any]], name: str, role: str | None, group: str | None
) -> list[Any]:
    return [
        e.get("value")
        for e in entities
        if e.get("entity") == name and e.get("role") == role and e.get("group") == group
    ]


def mapped_value(slot: Slot, mapping: SlotMapping, tracker: Tracker, domain: Domain) -> Any:
    """The value `mapping` gives `slot` from the latest user message (None: nothing)."""
    message = tracker.latest_message
    if message is None or not _intent_allowed(mapping, message.intent_name):
        return None
    if mapping.type == "from_entity" and mapping.entity:
        intent = domain.intent(message.intent_name or "")
        if intent is not None and not intent.uses_entity(mapping.entity):
            return None
        values = entity_values(message.entities, mapping.entity, mapping.role, mapping.group)
        if not values:
            return None
        return values if slot.type == "list" else values[0]
    if mapping.type == "from_text":
        return message.text
    if mapping.type == "from_intent":
        return mapping.value
    return None  # from_trigger_intent: filled by the form it triggers; custom: by actions


def extract_slots(tracker: Tracker, domain: Domain) -> list[SlotSet]:
    """`action_extract_slots`: slot values the latest user message gives through the mappings."""
    events: list[SlotSet] = []
    form = domain.forms.get(tracker.active_loop_name or "")
    ignored: tuple[str, ...] = ()
    if form is not None and tracker.latest_intent in form.ignored_intents:
        ignored = form.required_slots  # the form does not fill from this message
    for slot in domain.slots:
        if slot.name in ignored:
            continue
        for mapping in slot.mappings:
            if mapping.type in ("from_trigger_intent", "custom"):
                continue
            if not _conditions_met(mapping, tracker):
                continue
            value = mapped_value(slot, mapping, tracker, domain)
            if value is not None:
                events.append(SlotSet(name=slot.name, value=value))
                break
    return events


def custom_mapping_actions(tracker: Tracker, domain: Domain) -> list[str]:
    """Actions named by `custom` mappings whose conditions hold now (run at extraction)."""
    names: list[str] = []
    for slot in domain.slots:
        for mapping in slot.mappings:
            if (
                mapping.type == "custom"
                and mapping.action
                and mapping.action not in names
                and _conditions_met(mapping, tracker)
            ):
                names.append(mapping.action)
    return names


def trigger_intent_values(form: str, tracker: Tracker, domain: Domain) -> dict[str, Any]:
    """Slot values `from_trigger_intent` mappings give when `form` is activated."""
    message = tracker.latest_message
    required = domain.forms[form].required_slots if form in domain.forms else ()
    values: dict[str, Any] = {}
    if message is None:
        return values
    for slot in domain.slots:
        for mapping in slot.mappings:
            if mapping.type != "from_trigger_intent":
                continue
            loops = {c.active_loop for c in mapping.conditions}
            if (loops and form not in loops) or (not loops and slot.name not in required):
                continue
            if _intent_allowed(mapping, message.intent_name) and mapping.intent:
                values[slot.name] = mapping.value
                break
    return values
