"""The state of one conversation, rebuilt from its events."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from parley.dialogue.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    EntitiesAdded,
    Event,
    EventDict,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserFeaturization,
    UserUtteranceReverted,
    UserUttered,
    clone,
    events_from_dicts,
)

ACTION_LISTEN = "action_listen"
ACTION_SESSION_START = "action_session_start"
REQUESTED_SLOT = "requested_slot"
SESSION_STARTED_METADATA = "session_started_metadata"
HANDOFF_KEY = "handoff_to_human"  # metadata key of the pause event a handoff creates


class Tracker:
    """Events of a conversation plus what they add up to: slots, active loop, latest message.

    `slot_defaults` maps each slot of the domain to its initial value; slots not in it are
    ignored when set (as Rasa does). Without `slot_defaults` every slot set is kept.
    """

    def __init__(
        self,
        sender_id: str,
        slot_defaults: dict[str, Any] | None = None,
        events: Iterable[Event] = (),
    ) -> None:
        self.sender_id = sender_id
        self._defaults = dict(slot_defaults) if slot_defaults is not None else None
        self.events: list[Event] = []
        self._applied: list[Event] = []  # applied_events(), kept up to date as events come
        self._pack_from = 0  # events before this index are packed, or need no packing
        self.epoch = 0  # changes whenever applied events are dropped (restart, revert)
        self.state_cache: dict[Any, Any] = {}  # for parley.dialogue.state
        self._reset()
        for event in events:
            self.update(event)

    @classmethod
    def from_dicts(
        cls, sender_id: str, events: list[EventDict], slot_defaults: dict[str, Any] | None = None
    ) -> Tracker:
        return cls(sender_id, slot_defaults, events_from_dicts(events))

    def copy(self) -> Tracker:
        """An independent tracker over the same (never mutated) event objects."""
        return Tracker(self.sender_id, self._defaults, list(self.events))

    def release_events(self) -> list[Event]:
        """Empty the tracker and hand over its event list (the tracker cache frees a long one a
        slice at a time instead of all at once)."""
        events, self.events = self.events, []
        self._applied = []
        self._pack_from = 0
        self.state_cache = {}
        self._reset()
        return events

    def pack_history(self) -> None:
        """Pack the parse of every user message but the latest one (`UserUttered.pack`): what
        a tracker waiting in the tracker cache keeps of messages it moved past. Costs what the
        events since the previous call cost; reading an event unpacks it as needed."""
        latest = self.latest_message
        events = self.events
        resume = len(events)
        for index in range(self._pack_from, len(events)):
            event = events[index]
            if isinstance(event, UserUttered):
                if event is latest:
                    resume = min(resume, index)  # packed once a newer message comes
                else:
                    event.pack()
        self._pack_from = resume

    # -- state -------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.slots: dict[str, Any] = dict(clone(self._defaults or {}))
        self.active_loop: dict[str, Any] = {}
        self.latest_message: UserUttered | None = None
        self.latest_action: dict[str, str] = {}
        self.latest_bot_utterance: BotUttered | None = None
        self.followup_action: str | None = None
        self.paused = False
        self.handoff: dict[str, Any] | None = None

    def _reset_slots(self) -> None:
        self.slots = dict(clone(self._defaults or {}))

    def update(self, event: Event) -> None:
        """Append one event and apply it to the state."""
        self.events.append(event)
        if isinstance(event, Restarted | SessionStarted):
            self._applied = []
            self.epoch += 1
            self._apply(event)
        elif isinstance(event, ActionReverted):
            _undo_till(self._applied, ActionExecuted)
            self.epoch += 1
            self._replay()
        elif isinstance(event, UserUtteranceReverted):
            _undo_till(self._applied, UserUttered)
            _undo_till(self._applied, ActionExecuted)
            self.epoch += 1
            self._replay()
        else:
            self._applied.append(event)
            self._apply(event)

    def update_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.update(event)

    def _replay(self) -> None:
        self._reset()
        for event in self._applied:
            self._apply(event)

    def _apply(self, event: Event) -> None:
        if isinstance(event, UserUttered):
            self.latest_message = event
            self.followup_action = None
        elif isinstance(event, BotUttered):
            self.latest_bot_utterance = event
        elif isinstance(event, ActionExecuted):
            self.latest_action = (
                {"action_name": event.name}
                if event.name is not None
                else {"action_text": event.action_text or ""}
            )
            self.followup_action = None
            if self.active_loop and self.active_loop.get("name") == event.name:
                self.active_loop["validate"] = True
                self.active_loop["rejected"] = False
        elif isinstance(event, SlotSet):
            if self._defaults is None or event.name in self._defaults:
                self.slots[event.name] = event.value
        elif isinstance(event, ActiveLoop):
            if event.name:
                self.active_loop = {
                    "name": event.name,
                    "validate": True,
                    "rejected": False,
                    "trigger_message": self.latest_message.parse_data
                    if self.latest_message
                    else {},
                }
            else:
                self.active_loop = {}
        elif isinstance(event, LoopInterrupted):
            if self.active_loop:
                self.active_loop["validate"] = not event.is_interrupted
        elif isinstance(event, ActionExecutionRejected):
            if self.active_loop and self.active_loop.get("name") == event.name:
                self.active_loop["rejected"] = True
        elif isinstance(event, FollowupAction):
            self.followup_action = event.name
        elif isinstance(event, AllSlotsReset):
            self._reset_slots()
        elif isinstance(event, Restarted):
            self._reset()
            self.followup_action = ACTION_SESSION_START
        elif isinstance(event, SessionStarted):
            self._reset()
        elif isinstance(event, ConversationPaused):
            self.paused = True
            if event.metadata.get(HANDOFF_KEY):
                self.handoff = dict(event.metadata)
        elif isinstance(event, ConversationResumed):
            self.paused = False
            self.handoff = None
        elif isinstance(event, EntitiesAdded | UserFeaturization):
            self._apply_to_latest_message(event)

    def _apply_to_latest_message(self, event: Event) -> None:
        if self.latest_action_name != ACTION_LISTEN or self.latest_message is None:
            return
        if isinstance(event, EntitiesAdded):
            # a copy: the stored user event keeps what the user actually said
            message = copy.deepcopy(self.latest_message)
            entities = message.parse_data.setdefault("entities", [])
            entities.extend(e for e in event.entities if e not in entities)
            self.latest_message = message

    def applied_events(self) -> list[Event]:
        """Events that still count: after the last restart/session start, reverts applied."""
        return list(self._applied)

    @property
    def applied_count(self) -> int:
        """How many events still count (`len(applied_events())` without copying them)."""
        return len(self._applied)

    def applied_since(self, index: int) -> list[Event]:
        """`applied_events()[index:]`, copying only those: a long conversation's turn reads
        its new events without copying the whole history."""
        return self._applied[index:]

    # -- queries -----------------------------------------------------------------------------

    @property
    def latest_action_name(self) -> str | None:
        return self.latest_action.get("action_name")

    @property
    def active_loop_name(self) -> str | None:
        name = self.active_loop.get("name")
        return str(name) if name else None

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)

    @property
    def latest_intent(self) -> str | None:
        return self.latest_message.intent_name if self.latest_message else None

    def events_after_latest_user(self) -> list[Event]:
        """Events since the latest user message (that message excluded)."""
        out: list[Event] = []
        for event in reversed(self._applied):
            if isinstance(event, UserUttered):
                break
            out.append(event)
        return list(reversed(out))

    def last_event(self, kind: type[Event], skip: int = 0) -> Event | None:
        seen = 0
        for event in reversed(self._applied):
            if isinstance(event, kind):
                if seen == skip:
                    return event
                seen += 1
        return None

    def rejected_action(self) -> str | None:
        """The action rejected since the latest executed action, if any."""
        for event in reversed(self.events):
            if isinstance(event, ActionExecutionRejected):
                return event.name
            if isinstance(event, ActionExecuted):
                return None
        return None

    @property
    def latest_event_time(self) -> float | None:
        return self.events[-1].timestamp if self.events else None

    @property
    def latest_input_channel(self) -> str | None:
        for event in reversed(self.events):
            if isinstance(event, UserUttered):
                return event.input_channel
        return None

    def _latest_message_data(self) -> dict[str, Any]:
        if self.latest_message is None:
            return {}
        data = clone(self.latest_message.parse_data)
        data.setdefault("intent", {})
        data.setdefault("entities", [])
        data["text"] = self.latest_message.text
        data.setdefault("message_id", self.latest_message.message_id)
        data.setdefault("metadata", self.latest_message.metadata)
        return data

    def current_state(self, include_events: bool = True) -> dict[str, Any]:
        """The tracker as Rasa's HTTP API and action-server protocol show it."""
        return {
            "sender_id": self.sender_id,
            "slots": clone(self.slots),
            "latest_message": self._latest_message_data(),
            "latest_event_time": self.latest_event_time,
            "followup_action": self.followup_action,
            "paused": self.paused,
            "events": [e.as_dict() for e in self.events] if include_events else None,
            "latest_input_channel": self.latest_input_channel,
            "active_loop": clone(self.active_loop),
            "latest_action": dict(self.latest_action),
            "latest_action_name": self.latest_action_name,
        }

    def as_dicts(self) -> list[EventDict]:
        return [e.as_dict() for e in self.events]

    def sessions(self) -> list[list[Event]]:
        """The events split at each `action_session_start` (a session's first event)."""
        sessions: list[list[Event]] = [[]]
        for event in self.events:
            if (
                isinstance(event, ActionExecuted)
                and event.name == ACTION_SESSION_START
                and sessions[-1]
            ):
                sessions.append([])
            sessions[-1].append(event)
        return [s for s in sessions if s]


def _undo_till(applied: list[Event], kind: type[Event]) -> None:
    while applied:
        if isinstance(applied.pop(), kind):
            return
