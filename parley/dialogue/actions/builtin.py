"""The actions every assistant has (Rasa's default actions) and `utter_*` responses."""

from __future__ import annotations

from dataclasses import dataclass

from parley.dialogue.actions.base import ActionContext
from parley.dialogue.actions.responses import render_response, retrieval_response
from parley.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from parley.dialogue.slots import extract_slots
from parley.dialogue.state import BOT_TEXT_PREFIX
from parley.dialogue.tracker import (
    ACTION_LISTEN,
    REQUESTED_SLOT,
    SESSION_STARTED_METADATA,
    Tracker,
)

DEFAULT_TEXTS = {
    "utter_default": "Sorry, I didn't get that. Could you rephrase?",
    "utter_ask_rephrase": "I'm sorry, I didn't quite understand that. Could you rephrase?",
    "utter_handoff": "I'm handing you over to a human agent. Please wait a moment.",
}


def utter(name: str, tracker: Tracker, context: ActionContext) -> list[Event]:
    """Response `name` from the domain, else Parley's default text for it, else nothing."""
    message = render_response(name, tracker, context.domain, context.channel)
    if message is not None:
        return [message]
    if name in DEFAULT_TEXTS:
        return [BotUttered(text=DEFAULT_TEXTS[name], metadata={"utter_action": name})]
    return []


@dataclass
class ActionListen:
    name: str = ACTION_LISTEN

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return []


@dataclass
class ResponseAction:
    """`utter_x`: says response `utter_x`; `utter_<retrieval intent>` answers from the selector."""

    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        message = render_response(self.name, tracker, context.domain, context.channel)
        if message is None:
            message = retrieval_response(tracker, context.domain, self.name, context.channel)
        return [message] if message is not None else []


@dataclass
class ActionRestart:
    name: str = "action_restart"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return [*utter("utter_restart", tracker, context), Restarted()]


@dataclass
class ActionSessionStart:
    """Starts a session: carries slots over when configured, then waits for the user."""

    name: str = "action_session_start"
    metadata: dict | None = None

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        events: list[Event] = [SessionStarted()]
        if context.domain.session_config.carry_over_slots_to_new_session:
            events += [
                SlotSet(name=name, value=value)
                for name, value in tracker.slots.items()
                if value is not None and name not in (REQUESTED_SLOT, SESSION_STARTED_METADATA)
            ]
        if self.metadata:
            events.append(SlotSet(name=SESSION_STARTED_METADATA, value=self.metadata))
        events.append(ActionExecuted(name=ACTION_LISTEN))
        return events


@dataclass
class ActionDefaultFallback:
    """Says `utter_default` and forgets the message it could not handle."""

    name: str = "action_default_fallback"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return [*utter("utter_default", tracker, context), UserUtteranceReverted()]


@dataclass
class ActionDeactivateLoop:
    name: str = "action_deactivate_loop"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return [ActiveLoop(name=None), SlotSet(name=REQUESTED_SLOT, value=None)]


@dataclass
class ActionBack:
    name: str = "action_back"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return [
            *utter("utter_back", tracker, context),
            UserUtteranceReverted(),
            UserUtteranceReverted(),
        ]


@dataclass
class ActionExtractSlots:
    name: str = "action_extract_slots"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return list(extract_slots(tracker, context.domain))


@dataclass
class BotTextAction:
    """An end-to-end `bot:` step learnt from stories (`text:<what the bot says>`)."""

    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return [BotUttered(text=self.name.removeprefix(BOT_TEXT_PREFIX), data={}, metadata={})]


@dataclass
class ActionNoop:
    """Built-in actions with no effect here (e.g. `action_unlikely_intent`)."""

    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return []
