"""The domain as JSON: stored in the model archive, and in Rasa's shape for action servers."""

from __future__ import annotations

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


def _mapping_json(mapping: SlotMapping) -> dict[str, Any]:
    out: dict[str, Any] = {"type": mapping.type}
    for key in ("entity", "role", "group", "action"):
        if getattr(mapping, key) is not None:
            out[key] = getattr(mapping, key)
    if mapping.intent:
        out["intent"] = list(mapping.intent)
    if mapping.not_intent:
        out["not_intent"] = list(mapping.not_intent)
    if mapping.value is not None:
        out["value"] = mapping.value
    if mapping.conditions:
        out["conditions"] = [
            {
                k: v
                for k, v in (("active_loop", c.active_loop), ("requested_slot", c.requested_slot))
                if v is not None
            }
            for c in mapping.conditions
        ]
    return out


def _slot_json(slot: Slot) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": slot.type,
        "influence_conversation": slot.influence_conversation,
        "initial_value": slot.initial_value,
        "mappings": [_mapping_json(m) for m in slot.mappings],
    }
    if slot.type == "categorical":
        out["values"] = list(slot.values)
    if slot.type == "float":
        out["min_value"], out["max_value"] = slot.min_value, slot.max_value
    return out


def _intent_json(intent: Intent) -> Any:
    if intent.use_entities is None and not intent.ignore_entities:
        return intent.name
    props: dict[str, Any] = {}
    props["use_entities"] = True if intent.use_entities is None else list(intent.use_entities)
    if intent.ignore_entities:
        props["ignore_entities"] = list(intent.ignore_entities)
    return {intent.name: props}


def _entity_json(entity: EntityType) -> Any:
    if not entity.roles and not entity.groups and entity.influence_conversation:
        return entity.name
    props: dict[str, Any] = {"influence_conversation": entity.influence_conversation}
    if entity.roles:
        props["roles"] = list(entity.roles)
    if entity.groups:
        props["groups"] = list(entity.groups)
    return {entity.name: props}


def domain_to_json(domain: Domain) -> dict[str, Any]:
    """The domain in Rasa's domain-file shape (also what action servers receive)."""
    return {
        "version": "3.1",
        "config": {"store_entities_as_slots": True},
        "session_config": {
            "session_expiration_time": domain.session_config.session_expiration_time,
            "carry_over_slots_to_new_session": (
                domain.session_config.carry_over_slots_to_new_session
            ),
        },
        "intents": [_intent_json(i) for i in domain.intents],
        "entities": [_entity_json(e) for e in domain.entities],
        "slots": {s.name: _slot_json(s) for s in domain.slots},
        "responses": {
            name: [dict(v.raw) for v in variations] for name, variations in domain.responses.items()
        },
        "actions": list(domain.actions),
        "forms": {
            name: {
                "required_slots": list(f.required_slots),
                "ignored_intents": list(f.ignored_intents),
            }
            for name, f in domain.forms.items()
        },
        "e2e_actions": [],
    }


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _mapping_from(raw: dict[str, Any]) -> SlotMapping:
    return SlotMapping(
        type=raw["type"],
        entity=raw.get("entity"),
        role=raw.get("role"),
        group=raw.get("group"),
        intent=_names(raw.get("intent")),
        not_intent=_names(raw.get("not_intent")),
        value=raw.get("value"),
        conditions=tuple(
            MappingCondition(c.get("active_loop"), c.get("requested_slot"))
            for c in raw.get("conditions", ())
        ),
        action=raw.get("action"),
    )


def _variation_from(raw: dict[str, Any]) -> ResponseVariation:
    return ResponseVariation(
        text=raw.get("text"),
        buttons=tuple(raw.get("buttons") or ()),
        image=raw.get("image"),
        custom=raw.get("custom"),
        channel=raw.get("channel"),
        conditions=tuple(
            ResponseCondition(str(c.get("type", "slot")), str(c["name"]), c.get("value"))
            for c in raw.get("condition") or ()
        ),
        raw=dict(raw),
    )


def _intent_from(raw: Any) -> Intent:
    if isinstance(raw, str):
        return Intent(raw)
    name, props = next(iter(raw.items()))
    use = props.get("use_entities", True)
    return Intent(
        name,
        None if use is True else (() if use is False else tuple(use)),
        tuple(props.get("ignore_entities") or ()),
    )


def _entity_from(raw: Any) -> EntityType:
    if isinstance(raw, str):
        return EntityType(raw)
    name, props = next(iter(raw.items()))
    return EntityType(
        name,
        tuple(props.get("roles") or ()),
        tuple(props.get("groups") or ()),
        bool(props.get("influence_conversation", True)),
    )


def domain_from_json(raw: dict[str, Any]) -> Domain:
    """Inverse of `domain_to_json`."""
    session = raw.get("session_config") or {}
    slots = tuple(
        Slot(
            name=name,
            type=props["type"],
            influence_conversation=bool(props.get("influence_conversation", True)),
            mappings=tuple(_mapping_from(m) for m in props.get("mappings") or ()),
            initial_value=props.get("initial_value"),
            values=tuple(props.get("values") or ()),
            min_value=float(props.get("min_value", 0.0)),
            max_value=float(props.get("max_value", 1.0)),
        )
        for name, props in (raw.get("slots") or {}).items()
    )
    return Domain(
        intents=tuple(_intent_from(i) for i in raw.get("intents") or ()),
        entities=tuple(_entity_from(e) for e in raw.get("entities") or ()),
        slots=slots,
        responses={
            name: tuple(_variation_from(v) for v in variations)
            for name, variations in (raw.get("responses") or {}).items()
        },
        actions=tuple(raw.get("actions") or ()),
        forms={
            name: Form(
                name,
                tuple(props.get("required_slots") or ()),
                tuple(props.get("ignored_intents") or ()),
            )
            for name, props in (raw.get("forms") or {}).items()
        },
        session_config=SessionConfig(
            float(session.get("session_expiration_time", 60.0)),
            bool(session.get("carry_over_slots_to_new_session", True)),
        ),
    )
