"""Whether an event dict is Rasa event JSON the engine can apply, checked before it is stored.

`event_problem` checks one event's shape (a schema per event type: which fields, of which JSON
type); `check_events` also checks the values against the domain (known actions, slots and
intents, slot values of the slot's type), finite numbers, text that is valid Unicode and
reminder dates that parse. A request's events are checked all together before any is stored;
an event that fails says its index and field.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.dialogue.events import EVENT_TYPES
from parley.project.domain import BUILTIN_ACTIONS, DEFAULT_INTENTS, Domain

LEGACY_EVENT_TYPES = ("form", "form_validation")
logger = logging.getLogger(__name__)

MAX_DEPTH = 32  # nesting of metadata, parse data, slot values
MAX_TYPE_NAME = 64  # characters of an event type (a column of that width in the SQL stores)


@dataclass(frozen=True)
class EventProblem:
    """What is wrong with one event: its position in the request, the field, and why."""

    index: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"event {self.index}" + (f", field '{self.field}'" if self.field else "")
        return f"{where}: {self.message}"


class EventCheckError(ValueError):
    """Events that cannot be stored; `problem` names the first bad one."""

    def __init__(self, problem: EventProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


Check = Callable[[Any], str | None]  # a field's value -> what is wrong with it, or None


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, not {_kind(value)}"


def _name(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return f"must be a non-empty string, not {_kind(value)}"
    return None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {_kind(value)}"


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {_kind(value)}"
    if not math.isfinite(value):
        return "must be a finite number"
    return None


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be an object, not {_kind(value)}"


def _entity_list(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"must be a list of entities, not {_kind(value)}"
    for i, entity in enumerate(value):
        if not isinstance(entity, dict):
            return f"item {i} must be an object, not {_kind(entity)}"
        if not isinstance(entity.get("entity"), str) or not entity["entity"]:
            return f"item {i} needs 'entity' (a non-empty string)"
        for key in ("start", "end"):
            if key in entity and entity[key] is not None and _integer(entity[key]):
                return f"item {i}: '{key}' must be an integer"
        if "confidence_entity" in entity and _optional(_number)(entity["confidence_entity"]):
            return f"item {i}: 'confidence_entity' must be a number"
    return None


def _integer(value: Any) -> bool:
    """True when `value` is NOT an integer (a check's failure)."""
    return isinstance(value, bool) or not isinstance(value, int)


def _intent(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be an object with 'name' and 'confidence', not {_kind(value)}"
    if value.get("name") is not None and not isinstance(value["name"], str):
        return "'name' must be a string"
    if value.get("confidence") is not None and _number(value["confidence"]):
        return "'confidence' must be a finite number"
    return None


def _parse_data(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be an object (the NLU parse), not {_kind(value)}"
    if value.get("intent") is not None and (problem := _intent(value["intent"])):
        return f"'intent' {problem}"
    if value.get("entities") is not None and (problem := _entity_list(value["entities"])):
        return f"'entities' {problem}"
    ranking = value.get("intent_ranking")
    if ranking is not None:
        if not isinstance(ranking, list):
            return "'intent_ranking' must be a list"
        for i, item in enumerate(ranking):
            if problem := _intent(item):
                return f"'intent_ranking' item {i} {problem}"
    if value.get("text") is not None and not isinstance(value["text"], str):
        return "'text' must be a string"
    return None


def _date_time(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an ISO 8601 date and time (a string), not {_kind(value)}"
    try:
        moment = datetime.fromisoformat(value)
        moment.timestamp()
    except (ValueError, OverflowError, OSError):
        return f"is not an ISO 8601 date and time: {value[:40]!r}"
    return None


LATEST_TIMESTAMP = 253402300799.0  # 9999-12-31T23:59:59Z: later ones overflow dates


def _timestamp(value: Any) -> str | None:
    if problem := _number(value):
        return problem
    if not 0 <= value <= LATEST_TIMESTAMP:
        return "must be seconds since 1970 (0 to 253402300799)"
    return None


def _metadata(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be an object, not {_kind(value)}"
    for key, limit in _INDEXED_METADATA.items():  # stored in columns of this width
        item = value.get(key)
        if item is not None and (not isinstance(item, str) or len(item) > limit):
            return f"'{key}' must be a string of at most {limit} characters"
    return None


_INDEXED_METADATA = {"event_id": 64, "model_id": 128}
_COMMON: dict[str, Check] = {"timestamp": _optional(_timestamp), "metadata": _optional(_metadata)}

SCHEMAS: dict[str, dict[str, Check]] = {
    "user": {
        "text": _optional(_string),
        "parse_data": _optional(_parse_data),
        "input_channel": _optional(_string),
        "message_id": _optional(_string),
    },
    "bot": {"text": _optional(_string), "data": _optional(_object)},
    "action": {
        "name": _optional(_string),
        "policy": _optional(_string),
        "confidence": _optional(_number),
        "action_text": _optional(_string),
        "hide_rule_turn": _optional(_bool),
    },
    "slot": {"name": _name},
    "active_loop": {"name": _optional(_string)},
    "form": {"name": _optional(_string)},
    "form_validation": {"validate": _optional(_bool)},
    "followup": {"name": _name},
    "action_execution_rejected": {
        "name": _name,
        "policy": _optional(_string),
        "confidence": _optional(_number),
    },
    "user_featurization": {"use_text_for_featurization": _optional(_bool)},
    "loop_interrupted": {"is_interrupted": _optional(_bool)},
    "entities": {"entities": _entity_list},
    "reminder": {
        "intent": _name,
        "date_time": _date_time,
        "entities": _optional(_entity_list),
        "name": _optional(_name),
        "kill_on_user_msg": _optional(_bool),
    },
    "cancel_reminder": {
        "name": _optional(_string),
        "intent": _optional(_string),
        "entities": _optional(_entity_list),
    },
    "agent": {"text": _optional(_string)},
    "export": {"path": _optional(_string)},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "slot": ("name",),
    "followup": ("name",),
    "action_execution_rejected": ("name",),
    "entities": ("entities",),
    "reminder": ("intent", "date_time"),
}


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def event_problem(event: Any, allow_unknown: bool = False) -> tuple[str, str] | None:
    """(field, what is wrong) when `event` is not an event the engine can apply; None when fine.

    The shape only (cheap: also used on every stored event that is loaded). `allow_unknown`
    lets event types this engine does not interpret pass (kept as they are, e.g. Rasa Pro's)."""
    if not isinstance(event, dict):
        return "", f"an event must be an object, not {_kind(event)}"
    kind = event.get("event")
    if allow_unknown and isinstance(kind, str) and kind not in SCHEMAS:
        if not kind or len(kind) > MAX_TYPE_NAME:
            return "event", f"an event type must be 1 to {MAX_TYPE_NAME} characters long"
        return None
    if not isinstance(kind, str) or (kind not in EVENT_TYPES and kind not in LEGACY_EVENT_TYPES):
        return "event", f"unknown event type {kind!r}; use one of " + ", ".join(sorted(EVENT_TYPES))
    for name in REQUIRED.get(kind, ()):
        if name not in event:
            return name, f"a '{kind}' event needs '{name}'"
    for checks in (_COMMON, SCHEMAS.get(kind, {})):
        for name, check in checks.items():
            if name in event and (problem := check(event[name])):
                return name, problem
    return None


def json_problem(value: Any, depth: int = 0) -> str | None:
    """What keeps a JSON value out of the stores, anywhere in it: numbers that are not finite or
    beyond 64 bits, text that is not valid Unicode (lone surrogates) or holds NUL, nesting
    deeper than MAX_DEPTH; None when it can be stored."""
    if depth > MAX_DEPTH:
        return f"is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        return None if _valid_text(value) else "holds text that is not valid Unicode"
    if isinstance(value, float):
        return None if math.isfinite(value) else "holds a number that is not finite"
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return "holds an integer beyond 64 bits"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _valid_text(key):
                return "has a key that is not valid Unicode text"
            if problem := json_problem(item, depth + 1):
                return problem
    elif isinstance(value, list):
        for item in value:
            if problem := json_problem(item, depth + 1):
                return problem
    return None


def _valid_text(text: str) -> bool:
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "1", "0", "y", "n"})


def _slot_value_problem(slot_type: str, value: Any) -> str | None:
    """What makes `value` unusable for a slot of `slot_type` (Rasa's conversions: a bool slot
    takes true/false, numbers and words like "yes"; a float slot numbers and numeric text)."""
    if value is None or slot_type == "any":
        return None
    scalar = not isinstance(value, dict | list)
    if slot_type == "bool" and not (
        isinstance(value, bool)
        or (isinstance(value, int | float) and not _number(value))
        or (isinstance(value, str) and value.strip().lower() in _BOOL_WORDS)
    ):
        return "slot of type bool: must be true, false, a number, 'yes'/'no' or null"
    if slot_type == "float" and not (
        (isinstance(value, int | float) and not isinstance(value, bool) and not _number(value))
        or (isinstance(value, str) and _numeric_text(value))
    ):
        return f"slot of type float: must be a finite number or null, not {_kind(value)}"
    if slot_type in ("text", "categorical") and not scalar:
        return f"slot of type {slot_type}: must be a string, number or null, not {_kind(value)}"
    if slot_type == "list" and not isinstance(value, list):
        return f"slot of type list: must be a list or null, not {_kind(value)}"
    return None


def _numeric_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _domain_problem(event: dict[str, Any], domain: Domain) -> tuple[str, str] | None:
    kind = event["event"]
    name = event.get("name")
    actions = {*BUILTIN_ACTIONS, *domain.user_action_names}
    if kind in ("action", "followup") and name is not None and name not in actions:
        return "name", f"action {name!r} is not in the domain and is not a built-in action"
    if kind in ("active_loop", "form") and name is not None and name not in actions:
        return "name", f"loop {name!r} is not a form or action of the domain"
    if kind == "slot":
        slot = domain.slot(str(name))
        if slot is None:
            if name in _ENGINE_SLOTS:
                return None
            return "name", f"slot {name!r} is not in the domain"
        if problem := _slot_value_problem(slot.type, event.get("value")):
            return "value", problem
    if kind == "reminder" and event["intent"] not in {*domain.intent_names, *DEFAULT_INTENTS}:
        return "intent", f"intent {event['intent']!r} is not in the domain"
    return None


_ENGINE_SLOTS = ("requested_slot", "session_started_metadata")


def check_events(
    events: Iterable[Any], domain: Domain | None = None, allow_unknown: bool = False
) -> list[dict[str, Any]]:
    """The events, when every one of them can be stored; else EventCheckError naming the first
    bad one (its index and field). With `domain`, names and slot values are checked too;
    `allow_unknown` lets event types this engine does not interpret pass."""
    checked: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        found = event_problem(event, allow_unknown)
        if found is None:
            for name, value in event.items():
                if problem := json_problem(value):
                    found = (name, problem)
                    break
        if found is None and domain is not None and event["event"] in SCHEMAS:
            found = _domain_problem(event, domain)
        if found is not None:
            raise EventCheckError(EventProblem(index, *found))
        checked.append(event)
    return checked


def loadable_events(items: list[Any], sender_id: str) -> list[dict[str, Any]]:
    """The stored events the engine can apply; any other is left out with a logged error, so
    that one bad stored event (written by an older version, or by hand) does not make every
    later turn of the conversation fail."""
    bad = [i for i, item in enumerate(items) if event_problem(item, allow_unknown=True)]
    if not bad:
        return items
    for i in bad:
        field, message = event_problem(items[i], allow_unknown=True) or ("", "")
        logger.error(
            "conversation %r: stored event %d is left out (%s%s); the conversation goes on "
            "without it",
            sender_id[:80],
            i,
            f"field '{field}': " if field else "",
            message,
        )
    skip = set(bad)
    return [item for i, item in enumerate(items) if i not in skip]
