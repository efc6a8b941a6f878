"""The domain model: intents, entities, slots, responses, actions, forms, session settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.project.errors import Location


@dataclass(frozen=True)
class Intent:
    name: str
    use_entities: tuple[str, ...] | None = None  # None: all entities
    ignore_entities: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)

    def uses_entity(self, entity: str) -> bool:
        if entity in self.ignore_entities:
            return False
        return self.use_entities is None or entity in self.use_entities


@dataclass(frozen=True)
class EntityType:
    name: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    influence_conversation: bool = True


@dataclass(frozen=True)
class MappingCondition:
    active_loop: str | None = None
    requested_slot: str | None = None


@dataclass(frozen=True)
class SlotMapping:
    type: str
    entity: str | None = None
    role: str | None = None
    group: str | None = None
    intent: tuple[str, ...] = ()
    not_intent: tuple[str, ...] = ()
    value: Any = None
    conditions: tuple[MappingCondition, ...] = ()
    action: str | None = None


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    influence_conversation: bool = True
    mappings: tuple[SlotMapping, ...] = ()
    initial_value: Any = None
    values: tuple[str, ...] = ()  # categorical
    min_value: float = 0.0
    max_value: float = 1.0
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ResponseCondition:
    type: str  # "slot"
    name: str
    value: Any


@dataclass(frozen=True)
class ResponseVariation:
    """One variation of a response; `raw` keeps Rasa's JSON shape for channels."""

    text: str | None = None
    buttons: tuple[dict[str, Any], ...] = ()
    image: str | None = None
    custom: dict[str, Any] | None = None
    channel: str | None = None
    conditions: tuple[ResponseCondition, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    name: str
    required_slots: tuple[str, ...] = ()
    ignored_intents: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SessionConfig:
    session_expiration_time: float = 60.0  # minutes; 0 means sessions never expire
    carry_over_slots_to_new_session: bool = True


@dataclass(frozen=True)
class Domain:
    """The assistant's universe, merged from `domain.yml` or every file of `domain/`."""

    intents: tuple[Intent, ...] = ()
    entities: tuple[EntityType, ...] = ()
    slots: tuple[Slot, ...] = ()
    responses: dict[str, tuple[ResponseVariation, ...]] = field(default_factory=dict)
    actions: tuple[str, ...] = ()
    forms: dict[str, Form] = field(default_factory=dict)
    session_config: SessionConfig = SessionConfig()
    response_locations: dict[str, Location] = field(default_factory=dict, compare=False)
    action_locations: dict[str, Location] = field(default_factory=dict, compare=False)

    @property
    def intent_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.intents)

    @property
    def entity_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities)

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)

    def intent(self, name: str) -> Intent | None:
        return next((i for i in self.intents if i.name == name), None)

    @property
    def user_action_names(self) -> tuple[str, ...]:
        """Actions the assistant declares: custom actions, utter_* responses, forms."""
        names = list(self.actions)
        names += [r.split("/", 1)[0] for r in self.responses if r.startswith("utter_")]
        names += list(self.forms)
        return tuple(dict.fromkeys(names))

    def merge(self, other: Domain) -> Domain:
        """Combine two domain files; later definitions of the same name win."""
        intents = {i.name: i for i in self.intents} | {i.name: i for i in other.intents}
        entities = {e.name: e for e in self.entities} | {e.name: e for e in other.entities}
        slots = {s.name: s for s in self.slots} | {s.name: s for s in other.slots}
        return Domain(
            tuple(intents.values()),
            tuple(entities.values()),
            tuple(slots.values()),
            {**self.responses, **other.responses},
            tuple(dict.fromkeys(self.actions + other.actions)),
            {**self.forms, **other.forms},
            other.session_config
            if other.session_config != SessionConfig()
            else self.session_config,
            {**self.response_locations, **other.response_locations},
            {**self.action_locations, **other.action_locations},
        )


DEFAULT_INTENTS = ("restart", "back", "out_of_scope", "session_start", "nlu_fallback")
"""Intents every domain has without declaring them (as in Rasa)."""

BUILTIN_ACTIONS = (
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_revert_fallback_events",
    "action_default_ask_affirmation",
    "action_default_ask_rephrase",
    "action_two_stage_fallback",
    "action_unlikely_intent",
    "action_back",
    "action_extract_slots",
    "action_handoff_to_human",
)
"""Actions the engine provides; stories may use them without declaring them."""

BUILTIN_RESPONSES = (
    "utter_default",
    "utter_ask_rephrase",
    "utter_ask_affirmation",
    "utter_handoff",
)
"""Responses that built-in actions utter when the domain defines them."""
