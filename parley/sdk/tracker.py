"""The conversation as an action sees it: slots, the latest message, past events.

Built from the `tracker` of the webhook request; the API follows `rasa_sdk.Tracker`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

from parley.sdk.events import EventType

logger = logging.getLogger(__name__)

ACTION_LISTEN_NAME = "action_listen"
NLU_FALLBACK_INTENT_NAME = "nlu_fallback"


class Tracker:
    def __init__(
        self,
        sender_id: str,
        slots: dict[str, Any],
        latest_message: dict[str, Any] | None,
        events: list[dict[str, Any]],
        paused: bool,
        followup_action: str | None,
        active_loop: dict[str, Any],
        latest_action_name: str | None,
        stack: list[dict[str, Any]] | None = None,
    ) -> None:
        self.sender_id = sender_id
        self.slots = slots
        self.latest_message = latest_message or {}
        self.events = events
        self._paused = paused
        self.followup_action = followup_action
        self.active_loop = active_loop or {}
        self.latest_action_name = latest_action_name
        self.stack = stack or []

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Tracker:
        """The tracker from the webhook's `tracker` object."""
        return cls(
            state["sender_id"],
            state.get("slots") or {},
            state.get("latest_message") or {},
            state.get("events") or [],
            bool(state.get("paused", False)),
            state.get("followup_action"),
            state.get("active_loop", state.get("active_form")) or {},
            state.get("latest_action_name"),
            state.get("stack") or [],
        )

    def current_state(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender_id,
            "slots": self.slots,
            "latest_message": self.latest_message,
            "latest_event_time": self.events[-1].get("timestamp") if self.events else None,
            "paused": self._paused,
            "events": self.events,
            "latest_input_channel": self.get_latest_input_channel(),
            "active_loop": self.active_loop,
            "latest_action_name": self.latest_action_name,
            "stack": self.stack,
        }

    def current_slot_values(self) -> dict[str, Any]:
        return self.slots

    def get_slot(self, key: str) -> Any:
        """The slot's value, or None (logged) when the domain has no such slot."""
        if key not in self.slots:
            logger.info("Tried to access non existent slot '%s'.", key)
            return None
        return self.slots[key]

    def get_latest_entity_values(
        self, entity_type: str, entity_role: str | None = None, entity_group: str | None = None
    ) -> Iterator[Any]:
        """Values of the latest message's entities of this type (and role/group)."""
        return (
            entity.get("value")
            for entity in self.latest_message.get("entities", [])
            if entity.get("entity") == entity_type
            and entity.get("group") == entity_group
            and entity.get("role") == entity_role
        )

    def get_latest_input_channel(self) -> str | None:
        for event in reversed(self.events):
            if event.get("event") == "user":
                return event.get("input_channel")
        return None

    def get_intent_of_latest_message(self, skip_fallback_intent: bool = True) -> str | None:
        ranking = self.latest_message.get("intent_ranking") or []
        if not ranking:
            return None
        if ranking[0].get("name") == NLU_FALLBACK_INTENT_NAME and skip_fallback_intent:
            return ranking[1].get("name") if len(ranking) > 1 else None
        name = ranking[0].get("name")
        return str(name) if name is not None else None

    def is_paused(self) -> bool:
        return self._paused

    @property
    def active_loop_name(self) -> str | None:
        name = self.active_loop.get("name")
        return None if name == "should_not_be_set" else name

    def idx_after_latest_restart(self) -> int:
        index = 0
        for position, event in enumerate(self.events):
            if event.get("event") == "restart":
                index = position + 1
        return index

    def events_after_latest_restart(self) -> list[dict[str, Any]]:
        return list(self.events)[self.idx_after_latest_restart() :]

    def applied_events(self) -> list[dict[str, Any]]:
        """Events still in effect: after the last restart, without undone or rewound ones."""
        applied: list[dict[str, Any]] = []
        for event in self.events:
            kind = event.get("event")
            if kind == "restart":
                applied = []
            elif kind == "undo":
                _drop_back_to("action", applied)
            elif kind == "rewind":
                _drop_back_to("user", applied)
                _drop_back_to("action", applied)
            else:
                applied.append(event)
        return applied

    def get_last_event_for(
        self, event_type: str, exclude: list[str] | None = None, skip: int = 0
    ) -> dict[str, Any] | None:
        excluded = exclude or []
        matches = (
            e
            for e in reversed(self.applied_events())
            if e.get("event") == event_type
            and not (e.get("event") == "action" and e.get("name") in excluded)
        )
        for _ in range(skip):
            next(matches, None)
        return next(matches, None)

    def last_executed_action_has(self, name: str, skip: int = 0) -> bool:
        last = self.get_last_event_for("action", exclude=[ACTION_LISTEN_NAME], skip=skip)
        return last is not None and last.get("name") == name

    def slots_to_validate(self) -> dict[str, Any]:
        """Slots set by the trailing run of `slot` events (the candidates a form validates)."""
        trailing: list[dict[str, Any]] = []
        for event in reversed(self.events):
            if event.get("event") != "slot":
                break
            trailing.append(event)
        return {e["name"]: e.get("value") for e in reversed(trailing)}

    def add_slots(self, slots: list[EventType]) -> None:
        """Apply `SlotSet` events to this copy of the tracker."""
        for event in slots:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event.get("value")
                self.events.append(event)

    def copy(self) -> Tracker:
        return Tracker(
            self.sender_id,
            copy.deepcopy(self.slots),
            copy.deepcopy(self.latest_message),
            copy.deepcopy(self.events),
            self._paused,
            self.followup_action,
            copy.deepcopy(self.active_loop),
            self.latest_action_name,
            copy.deepcopy(self.stack),
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Tracker)
            and other.sender_id == self.sender_id
            and other.events == self.events
        )

    __hash__ = None  # type: ignore[assignment]


def _drop_back_to(event_type: str, events: list[dict[str, Any]]) -> None:
    """Remove events from the end up to and including the last one of `event_type`."""
    while events:
        if events.pop().get("event") == event_type:
            break
