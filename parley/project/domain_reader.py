"""Reading domain files (`domain.yml` or each file of `domain/`) into `Domain` objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from parley.project.domain import (
    Domain,
    EntityType,
    Form,
    Intent,
    MappingCondition,
    ResponseCondition,
    ResponseVariation,
    SessionConfig,
    Slot,
    SlotMapping,
)
from parley.project.errors import Location, ProblemSink
from parley.project.yamlio import (
    check_keys,
    expect,
    item_location,
    key_location,
    node_location,
    plain,
    value_location,
)

SLOT_TYPES = ("text", "bool", "categorical", "float", "list", "any")
MAPPING_TYPES = ("from_entity", "from_text", "from_intent", "from_trigger_intent", "custom")
DOMAIN_KEYS = (
    "version",
    "intents",
    "entities",
    "slots",
    "responses",
    "actions",
    "forms",
    "session_config",
    "config",
    "e2e_actions",
)
_SLOT_KEYS = {
    "type",
    "influence_conversation",
    "mappings",
    "initial_value",
    "values",
    "min_value",
    "max_value",
}
_MAPPING_KEYS = {
    "type",
    "entity",
    "role",
    "group",
    "intent",
    "not_intent",
    "value",
    "conditions",
    "action",
}
_RESPONSE_KEYS = {
    "text",
    "buttons",
    "image",
    "custom",
    "channel",
    "condition",
    "quick_replies",
    "attachment",
    "elements",
    "metadata",
    "id",
}


def _str_list(path: Path, node: Any, key: str, sink: ProblemSink, where: str) -> tuple[str, ...]:
    """A key whose value is a name or a list of names."""
    value = node.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    sink.error(value_location(path, node, key), f"'{key}' in {where} must be a list of names")
    return ()


def _named_items(
    path: Path, node: Any, section: str, kind: str, sink: ProblemSink
) -> Iterator[tuple[str, dict[str, Any], Location]]:
    """(name, properties, location) for a list of `name` or `name: {properties}` items."""
    if not isinstance(node, list):
        sink.error(node_location(path, node), f"'{section}' must be a list")
        return
    for index, item in enumerate(node):
        loc = item_location(path, node, index)
        if isinstance(item, str):
            yield item, {}, loc
        elif isinstance(item, dict) and len(item) == 1:
            name = str(next(iter(item)))
            props = item[name] or {}
            if isinstance(props, dict):
                yield name, props, loc
            else:
                sink.error(loc, f"properties of {kind} '{name}' must be a mapping")
        else:
            sink.error(loc, f"an {kind} must be a name or a mapping of a name to its properties")


def _parse_intents(path: Path, node: Any, sink: ProblemSink) -> list[Intent]:
    intents: list[Intent] = []
    for name, props, loc in _named_items(path, node, "intents", "intent", sink):
        where = f"intent '{name}'"
        check_keys(path, props, {"use_entities", "ignore_entities", "triggers"}, sink, where)
        use = props.get("use_entities", True)
        use_entities: tuple[str, ...] | None
        if use is True or use is None:
            use_entities = None
        elif use is False:
            use_entities = ()
        else:
            use_entities = _str_list(path, props, "use_entities", sink, where)
        ignore = _str_list(path, props, "ignore_entities", sink, where)
        intents.append(Intent(name, use_entities, ignore, loc))
    return intents


def _parse_entities(path: Path, node: Any, sink: ProblemSink) -> list[EntityType]:
    entities: list[EntityType] = []
    for name, props, _ in _named_items(path, node, "entities", "entity", sink):
        where = f"entity '{name}'"
        check_keys(path, props, {"roles", "groups", "influence_conversation"}, sink, where)
        entities.append(
            EntityType(
                name,
                _str_list(path, props, "roles", sink, where),
                _str_list(path, props, "groups", sink, where),
                bool(props.get("influence_conversation", True)),
            )
        )
    return entities


def _parse_mapping(path: Path, node: Any, slot: str, sink: ProblemSink) -> SlotMapping | None:
    where = f"a mapping of slot '{slot}'"
    if not isinstance(node, dict):
        sink.error(node_location(path, node), f"{where} must be a mapping with 'type'")
        return None
    check_keys(path, node, _MAPPING_KEYS, sink, where)
    kind = node.get("type")
    if kind not in MAPPING_TYPES:
        sink.error(
            value_location(path, node, "type") if "type" in node else node_location(path, node),
            f"{where} has type {kind!r}; expected one of: {', '.join(MAPPING_TYPES)}",
        )
        return None
    if kind == "from_entity" and not isinstance(node.get("entity"), str):
        sink.error(node_location(path, node), f"{where} of type from_entity needs 'entity'")
        return None
    if kind in ("from_intent", "from_trigger_intent") and "value" not in node:
        sink.error(node_location(path, node), f"{where} of type {kind} needs 'value'")
        return None
    conditions: list[MappingCondition] = []
    raw_conditions = node.get("conditions") or []
    if not isinstance(raw_conditions, list):
        sink.error(
            value_location(path, node, "conditions"), f"'conditions' in {where} must be a list"
        )
        raw_conditions = []
    for cond in raw_conditions:
        if not isinstance(cond, dict):
            sink.error(
                node_location(path, raw_conditions), f"a condition in {where} must be a mapping"
            )
            continue
        check_keys(path, cond, {"active_loop", "requested_slot"}, sink, f"a condition of {where}")
        conditions.append(MappingCondition(cond.get("active_loop"), cond.get("requested_slot")))
    return SlotMapping(
        type=kind,
        entity=node.get("entity"),
        role=node.get("role"),
        group=node.get("group"),
        intent=_str_list(path, node, "intent", sink, where),
        not_intent=_str_list(path, node, "not_intent", sink, where),
        value=plain(node.get("value")),
        conditions=tuple(conditions),
        action=node.get("action"),
    )


def _parse_slot(path: Path, name: str, node: Any, loc: Location, sink: ProblemSink) -> Slot | None:
    where = f"slot '{name}'"
    if not isinstance(node, dict):
        sink.error(loc, f"{where} must be a mapping with 'type' and 'mappings'")
        return None
    check_keys(path, node, _SLOT_KEYS, sink, where)
    kind = node.get("type")
    if kind not in SLOT_TYPES:
        at = value_location(path, node, "type") if "type" in node else loc
        sink.error(at, f"{where} has type {kind!r}; expected one of: {', '.join(SLOT_TYPES)}")
        return None
    if "influence_conversation" in node:
        expect(path, node, "influence_conversation", bool, sink, where)
    default_influence = kind != "any"
    mappings_node = node.get("mappings")
    mappings: list[SlotMapping] = []
    if mappings_node is None:
        sink.warning(loc, f"{where} has no 'mappings'; it is only set by custom actions")
    elif not isinstance(mappings_node, list):
        sink.error(value_location(path, node, "mappings"), f"'mappings' of {where} must be a list")
    else:
        for mapping_node in mappings_node:
            mapping = _parse_mapping(path, mapping_node, name, sink)
            if mapping is not None:
                mappings.append(mapping)
    values: tuple[str, ...] = ()
    if kind == "categorical":
        raw_values = node.get("values")
        if not isinstance(raw_values, list):
            sink.error(loc, f"categorical {where} needs a list of 'values'")
        else:
            values = tuple(str(v).lower() if not isinstance(v, str) else v for v in raw_values)
    for bound in ("min_value", "max_value"):
        if bound in node:
            expect(path, node, bound, float, sink, where)
    return Slot(
        name=name,
        type=kind,
        influence_conversation=bool(node.get("influence_conversation", default_influence)),
        mappings=tuple(mappings),
        initial_value=plain(node.get("initial_value")),
        values=values,
        min_value=float(node["min_value"])
        if isinstance(node.get("min_value"), int | float)
        else 0.0,
        max_value=float(node["max_value"])
        if isinstance(node.get("max_value"), int | float)
        else 1.0,
        location=loc,
    )


def _parse_variation(
    path: Path, node: Any, name: str, sink: ProblemSink
) -> ResponseVariation | None:
    where = f"response '{name}'"
    if not isinstance(node, dict):
        sink.error(node_location(path, node), f"each variation of {where} must be a mapping")
        return None
    check_keys(path, node, _RESPONSE_KEYS, sink, where)
    if not any(k in node for k in ("text", "image", "custom", "buttons", "attachment", "elements")):
        sink.error(
            node_location(path, node), f"a variation of {where} has no text, image or custom"
        )
        return None
    if "text" in node and node["text"] is not None:
        expect(path, node, "text", str, sink, where)
    conditions: list[ResponseCondition] = []
    for cond in node.get("condition") or []:
        if not isinstance(cond, dict) or "name" not in cond:
            sink.error(node_location(path, node), f"a condition of {where} needs type, name, value")
            continue
        check_keys(path, cond, {"type", "name", "value"}, sink, f"a condition of {where}")
        conditions.append(
            ResponseCondition(
                str(cond.get("type", "slot")), str(cond["name"]), plain(cond.get("value"))
            )
        )
    raw = plain(node)
    buttons = raw.get("buttons") or []
    if not isinstance(buttons, list):
        sink.error(value_location(path, node, "buttons"), f"'buttons' of {where} must be a list")
        buttons = []
    return ResponseVariation(
        text=raw.get("text"),
        buttons=tuple(buttons),
        image=raw.get("image"),
        custom=raw.get("custom"),
        channel=raw.get("channel"),
        conditions=tuple(conditions),
        raw=raw,
    )


def parse_responses(
    path: Path, node: Any, sink: ProblemSink
) -> tuple[dict[str, tuple[ResponseVariation, ...]], dict[str, Location]]:
    """Parse a `responses:` mapping (domain or data file)."""
    responses: dict[str, tuple[ResponseVariation, ...]] = {}
    locations: dict[str, Location] = {}
    if not isinstance(node, dict):
        sink.error(
            node_location(path, node), "'responses' must be a mapping of names to variations"
        )
        return responses, locations
    for name, variations in node.items():
        loc = key_location(path, node, name)
        locations[str(name)] = loc
        if not isinstance(variations, list):
            sink.error(loc, f"response '{name}' must be a list of variations")
            continue
        parsed = [_parse_variation(path, v, str(name), sink) for v in variations]
        responses[str(name)] = tuple(p for p in parsed if p is not None)
    return responses, locations


def _parse_forms(path: Path, node: Any, sink: ProblemSink) -> dict[str, Form]:
    if not isinstance(node, dict):
        sink.error(node_location(path, node), "'forms' must be a mapping of form names")
        return {}
    forms: dict[str, Form] = {}
    for name, props in node.items():
        loc = key_location(path, node, name)
        where = f"form '{name}'"
        props = props or {}
        if not isinstance(props, dict):
            sink.error(loc, f"{where} must be a mapping with 'required_slots'")
            continue
        check_keys(path, props, {"required_slots", "ignored_intents"}, sink, where)
        required = props.get("required_slots") or []
        if isinstance(required, dict):  # Rasa 2 style: slot -> mappings
            sink.error(
                value_location(path, props, "required_slots"),
                f"'required_slots' of {where} must be a list of slot names (Rasa 3 format);"
                " move the mappings to the slots",
            )
            required = list(required)
        forms[str(name)] = Form(
            str(name),
            tuple(str(s) for s in required),
            _str_list(path, props, "ignored_intents", sink, where),
            loc,
        )
    return forms


def _parse_actions(path: Path, node: Any, sink: ProblemSink) -> dict[str, Location]:
    if not isinstance(node, list):
        sink.error(node_location(path, node), "'actions' must be a list of action names")
        return {}
    actions: dict[str, Location] = {}
    for index, item in enumerate(node):
        loc = item_location(path, node, index)
        if isinstance(item, str):
            actions[item] = loc
        elif isinstance(item, dict) and len(item) == 1:  # `- action_x: {send_domain: true}`
            actions[str(next(iter(item)))] = loc
        else:
            sink.error(loc, "an action must be a name")
    return actions


def parse_domain(path: Path, node: Any, sink: ProblemSink) -> Domain:
    """Parse one domain file's top-level mapping."""
    if node is None:
        return Domain()
    if not isinstance(node, dict):
        sink.error(node_location(path, node), "a domain file must be a mapping")
        return Domain()
    check_keys(path, node, (*DOMAIN_KEYS, "nlu", "stories", "rules"), sink, "the domain")
    intents = _parse_intents(path, node["intents"], sink) if node.get("intents") else []
    entities = _parse_entities(path, node["entities"], sink) if node.get("entities") else []
    slots: list[Slot] = []
    slots_node = node.get("slots")
    if isinstance(slots_node, dict):
        for name, slot_node in slots_node.items():
            slot = _parse_slot(
                path, str(name), slot_node, key_location(path, slots_node, name), sink
            )
            if slot is not None:
                slots.append(slot)
    elif slots_node is not None:
        sink.error(value_location(path, node, "slots"), "'slots' must be a mapping of slot names")
    responses, response_locations = (
        parse_responses(path, node["responses"], sink) if node.get("responses") else ({}, {})
    )
    actions = _parse_actions(path, node["actions"], sink) if node.get("actions") else {}
    forms = _parse_forms(path, node["forms"], sink) if node.get("forms") else {}
    session = SessionConfig()
    session_node = node.get("session_config")
    if isinstance(session_node, dict):
        check_keys(
            path,
            session_node,
            {"session_expiration_time", "carry_over_slots_to_new_session"},
            sink,
            "session_config",
        )
        expiration = session_node.get("session_expiration_time", 60)
        if "session_expiration_time" in session_node:
            expect(path, session_node, "session_expiration_time", float, sink, "session_config")
        session = SessionConfig(
            float(expiration) if isinstance(expiration, int | float) else 60.0,
            bool(session_node.get("carry_over_slots_to_new_session", True)),
        )
    elif session_node is not None:
        sink.error(
            value_location(path, node, "session_config"), "'session_config' must be a mapping"
        )
    return Domain(
        tuple(intents),
        tuple(entities),
        tuple(slots),
        responses,
        tuple(actions),
        forms,
        session,
        response_locations,
        actions,
    )
