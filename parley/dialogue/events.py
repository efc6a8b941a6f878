"""Conversation events, serialised exactly as Rasa's event JSON.

Every event is `{"event": <type>, "timestamp": <float>, ...}` plus the fields of its type; the
dataclass field names are the JSON keys, so `as_dict`/`from_dict` are generic. Unknown event types
(e.g. Rasa Pro's flow events) are kept as `UnknownEvent` with their JSON untouched, so any Rasa
tracker dump round-trips.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from parley.ids import random_id

EventDict = dict[str, Any]

_BASE_FIELDS = ("timestamp", "metadata")


def clone(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, scalars); much faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clone(v) for v in value]
    return value


def new_event_id() -> str:
    """An id that lets brokers' consumers drop duplicates."""
    return random_id()


@dataclass(kw_only=True)
class Event:
    """One thing that happened in a conversation."""

    type_name: ClassVar[str] = ""
    always_metadata: ClassVar[bool] = False  # user and bot events always carry the key
    timestamp: float = field(default_factory=time.time)
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, copy: bool = True) -> EventDict:
        """Rasa's JSON of the event. `copy=False` shares the nested values with the event: for
        callers that only serialise the result (storing, publishing), never change it."""
        take = clone if copy else _same
        data: EventDict = {"event": self.type_name, "timestamp": self.timestamp}
        if self.metadata or self.always_metadata:
            data["metadata"] = take(self.metadata)
        for name in _own_field_names(type(self)):
            data[name] = take(getattr(self, name))
        return data

    @classmethod
    def _from_fields(cls, data: EventDict, copy_values: bool = True) -> Event:
        names = _field_names(cls)
        take = clone if copy_values else _same
        kwargs = {k: take(v) for k, v in data.items() if k in names and k != "metadata"}
        if kwargs.get("timestamp") is None:
            kwargs.pop("timestamp", None)
        return cls(metadata=dict(data.get("metadata") or {}), **kwargs)


def _same(value: Any) -> Any:
    return value


_FIELD_NAMES: dict[type, frozenset[str]] = {}


_OWN_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _own_field_names(cls: type) -> tuple[str, ...]:
    """The event type's own JSON fields (all but timestamp and metadata), in declared order."""
    names = _OWN_FIELD_NAMES.get(cls)
    if names is None:
        names = _OWN_FIELD_NAMES[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if f.name not in _BASE_FIELDS and f.init
        )
    return names


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls) if f.init)
    return names


@dataclass(kw_only=True)
class UserUttered(Event):
    """The user said something; `parse_data` is the full NLU parse that produced it.

    A message the conversation has moved past may keep its parse packed (`pack`): one bytes
    object of its compressed JSON instead of a tree of dicts, lists and floats (the intent
    ranking and the response selector's are most of a long conversation's memory, and every
    dict and list in it is one more object for each full cyclic-GC collection to walk; the
    demo's 2.8 kB parse packs into 0.7 kB, in about 30 us). The first read of
    `parse_data` unpacks it for good; `as_dict` reads it without unpacking. A packed event is
    equal to the one before packing and serialises to the same JSON."""

    type_name: ClassVar[str] = "user"
    always_metadata: ClassVar[bool] = True
    text: str | None = None
    parse_data: dict[str, Any] = field(default_factory=dict)
    input_channel: str | None = None
    message_id: str | None = None
    _packed_parse: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def pack(self) -> bool:
        """Keep the parse as compact JSON until it is next read; False (and nothing changed)
        when JSON would not give back an equal parse (a tuple, NaN, a non-string key)."""
        if self._packed_parse is not None:
            return True
        parse = self.parse_data
        try:
            encoded = orjson.dumps(parse)
        except TypeError:
            return False
        if orjson.loads(encoded) != parse:
            return False
        self._packed_parse = zlib.compress(encoded, 1)
        del self.parse_data  # reads go to __getattr__ until unpacked
        return True

    @property
    def packed(self) -> bool:
        return self._packed_parse is not None

    if not TYPE_CHECKING:  # for mypy, `parse_data` stays a plain attribute

        def __getattr__(self, name: str) -> Any:
            # reached only when the instance has no such attribute: a packed parse_data
            packed = self._packed_parse
            if name != "parse_data" or packed is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            self.parse_data = parse = _unpacked(packed)
            self._packed_parse = None
            return parse

    def as_dict(self, copy: bool = True) -> EventDict:
        packed = self._packed_parse
        if packed is None:
            return super().as_dict(copy)
        take = clone if copy else _same
        return {  # the fields in declared order, as Event.as_dict writes them
            "event": self.type_name,
            "timestamp": self.timestamp,
            "metadata": take(self.metadata),
            "text": self.text,
            "parse_data": _unpacked(packed),  # a fresh tree: a copy either way
            "input_channel": self.input_channel,
            "message_id": self.message_id,
        }

    @property
    def intent_name(self) -> str | None:
        intent = self.parse_data.get("intent") or {}
        return intent.get("name") if isinstance(intent, dict) else None

    @property
    def intent_confidence(self) -> float:
        intent = self.parse_data.get("intent") or {}
        return float(intent.get("confidence") or 0.0) if isinstance(intent, dict) else 0.0

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.parse_data.get("entities") or [])


def _unpacked(packed: bytes) -> dict[str, Any]:
    parse: dict[str, Any] = orjson.loads(zlib.decompress(packed))
    return parse


@dataclass(kw_only=True)
class BotUttered(Event):
    type_name: ClassVar[str] = "bot"
    always_metadata: ClassVar[bool] = True
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def message(self, recipient_id: str) -> dict[str, Any]:
        """The message as Rasa's REST channel returns it (only keys with a value)."""
        out: dict[str, Any] = {"recipient_id": recipient_id}
        if self.text is not None:
            out["text"] = self.text
        for key in ("buttons", "image", "custom", "attachment", "quick_replies", "elements"):
            value = self.data.get(key)
            if value:
                out[key] = value
        return out


@dataclass(kw_only=True)
class ActionExecuted(Event):
    type_name: ClassVar[str] = "action"
    name: str | None = None
    policy: str | None = None
    confidence: float | None = None
    action_text: str | None = None
    hide_rule_turn: bool = False


@dataclass(kw_only=True)
class SlotSet(Event):
    type_name: ClassVar[str] = "slot"
    name: str = ""
    value: Any = None


@dataclass(kw_only=True)
class ActiveLoop(Event):
    """`name` set: a loop (form) is active; None: the active loop ended."""

    type_name: ClassVar[str] = "active_loop"
    name: str | None = None


@dataclass(kw_only=True)
class FollowupAction(Event):
    type_name: ClassVar[str] = "followup"
    name: str = ""


@dataclass(kw_only=True)
class AllSlotsReset(Event):
    type_name: ClassVar[str] = "reset_slots"


@dataclass(kw_only=True)
class Restarted(Event):
    type_name: ClassVar[str] = "restart"


@dataclass(kw_only=True)
class SessionStarted(Event):
    type_name: ClassVar[str] = "session_started"


@dataclass(kw_only=True)
class ActionExecutionRejected(Event):
    type_name: ClassVar[str] = "action_execution_rejected"
    name: str = ""
    policy: str | None = None
    confidence: float | None = None


@dataclass(kw_only=True)
class UserFeaturization(Event):
    type_name: ClassVar[str] = "user_featurization"
    use_text_for_featurization: bool = False


@dataclass(kw_only=True)
class LoopInterrupted(Event):
    type_name: ClassVar[str] = "loop_interrupted"
    is_interrupted: bool = False


@dataclass(kw_only=True)
class EntitiesAdded(Event):
    type_name: ClassVar[str] = "entities"
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass(kw_only=True)
class ReminderScheduled(Event):
    """Triggers `intent` at `date_time` (ISO 8601); same-name reminders replace each other."""

    type_name: ClassVar[str] = "reminder"
    intent: str = ""
    date_time: str = ""
    entities: list[dict[str, Any]] | None = None
    name: str = field(default_factory=lambda: str(uuid.uuid1()))
    kill_on_user_msg: bool = True


@dataclass(kw_only=True)
class ReminderCancelled(Event):
    """Cancels reminders matching name / intent / entities (all of them when none is given)."""

    type_name: ClassVar[str] = "cancel_reminder"
    name: str | None = None
    intent: str | None = None
    entities: list[dict[str, Any]] | None = None


@dataclass(kw_only=True)
class ConversationPaused(Event):
    type_name: ClassVar[str] = "pause"


@dataclass(kw_only=True)
class ConversationResumed(Event):
    type_name: ClassVar[str] = "resume"


@dataclass(kw_only=True)
class ActionReverted(Event):
    type_name: ClassVar[str] = "undo"


@dataclass(kw_only=True)
class UserUtteranceReverted(Event):
    type_name: ClassVar[str] = "rewind"


@dataclass(kw_only=True)
class AgentUttered(Event):
    type_name: ClassVar[str] = "agent"
    text: str | None = None
    data: Any = None


@dataclass(kw_only=True)
class StoryExported(Event):
    type_name: ClassVar[str] = "export"
    path: str | None = None


@dataclass(kw_only=True)
class UnknownEvent(Event):
    """An event type this engine does not interpret; its JSON is kept as it came."""

    raw: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, copy: bool = True) -> EventDict:
        return dict(clone(self.raw)) if copy else dict(self.raw)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls
    for cls in (
        UserUttered,
        BotUttered,
        ActionExecuted,
        SlotSet,
        ActiveLoop,
        FollowupAction,
        AllSlotsReset,
        Restarted,
        SessionStarted,
        ActionExecutionRejected,
        UserFeaturization,
        LoopInterrupted,
        EntitiesAdded,
        ReminderScheduled,
        ReminderCancelled,
        ConversationPaused,
        ConversationResumed,
        ActionReverted,
        UserUtteranceReverted,
        AgentUttered,
        StoryExported,
    )
}


class EventError(ValueError):
    """An event dict is not Rasa event JSON."""


def event_from_dict(data: EventDict, copy_values: bool = True) -> Event:
    """Parse one Rasa event dict; legacy `form`/`form_validation` map to their new types.

    `copy_values=False` lets the event share `data`'s values (for dicts nobody else holds).
    """
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise EventError(f"not an event (needs an 'event' key naming its type): {data!r:.200}")
    kind = data["event"]
    if kind == "form":
        return ActiveLoop._from_fields(data, copy_values)
    if kind == "form_validation":
        meta = dict(data.get("metadata") or {})
        ts = data.get("timestamp") or time.time()
        return LoopInterrupted(
            is_interrupted=not data.get("validate", True), timestamp=ts, metadata=meta
        )
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        return UnknownEvent(
            raw=clone(data),
            timestamp=data.get("timestamp") or time.time(),
            metadata=dict(data.get("metadata") or {}),
        )
    if cls is SlotSet and "name" not in data:
        raise EventError(f"a 'slot' event needs 'name': {data!r:.200}")
    return cls._from_fields(data, copy_values)


def events_from_dicts(items: list[EventDict], copy_values: bool = True) -> list[Event]:
    return [event_from_dict(item, copy_values) for item in items]


def stamp(events: list[Event], model_id: str | None) -> list[Event]:
    """Give events the engine created their `model_id` and a unique `event_id`."""
    for event in events:
        if isinstance(event, UnknownEvent):
            continue
        event.metadata.setdefault("event_id", new_event_id())
        if model_id is not None:
            event.metadata.setdefault("model_id", model_id)
    return events
