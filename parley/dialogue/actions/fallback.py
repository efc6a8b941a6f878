"""Fallbacks that lead somewhere: two-stage fallback (affirm, rephrase, give up) and handoff.

`action_two_stage_fallback` is a loop, as in Rasa: on a low-confidence message it asks the user
to affirm the likeliest intent; a "no" gets a request to rephrase; a second failure runs the
configured final action (`action_default_fallback`, or `action_handoff_to_human`). When the user
affirms or rephrases clearly, the fallback turns are rewound and the conversation continues as
if the clear message had been said first.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime

from parley.dialogue.actions.base import ActionContext
from parley.dialogue.actions.builtin import utter
from parley.dialogue.actions.responses import render_response
from parley.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    UserUtteranceReverted,
    UserUttered,
)
from parley.dialogue.topics import NLU_FALLBACK
from parley.dialogue.tracker import ACTION_LISTEN, HANDOFF_KEY, Tracker

TWO_STAGE = "action_two_stage_fallback"
HANDOFF = "action_handoff_to_human"
ASK_AFFIRMATION = "utter_ask_affirmation"
ASK_REPHRASE = "utter_ask_rephrase"
DENIALS = ("out_of_scope", "deny")


def _likeliest_intent(message: UserUttered) -> str | None:
    for candidate in message.parse_data.get("intent_ranking") or []:
        name = candidate.get("name") if isinstance(candidate, dict) else None
        if name and name != NLU_FALLBACK:
            return str(name)
    return None


def ask_affirmation(tracker: Tracker, context: ActionContext) -> list[Event]:
    """`action_default_ask_affirmation`: "Did you mean X?" with Yes / No buttons."""
    message = tracker.latest_message
    intent = _likeliest_intent(message) if message is not None else None
    if intent is None:
        return utter(ASK_REPHRASE, tracker, context)
    buttons = [
        {"title": "Yes", "payload": f"/{intent}"},
        {"title": "No", "payload": "/out_of_scope"},
    ]
    rendered = render_response(
        ASK_AFFIRMATION, tracker, context.domain, context.channel, {"intent": intent}
    )
    text = rendered.text if rendered is not None else f"Did you mean '{intent}'?"
    data = dict(rendered.data) if rendered is not None else {}
    data["buttons"] = data.get("buttons") or buttons
    return [
        BotUttered(
            text=text, data=data, metadata={"utter_action": ASK_AFFIRMATION, "intent": intent}
        )
    ]


def _loop_turns(tracker: Tracker) -> tuple[list[UserUttered], list[BotUttered]]:
    """User and bot events since the fallback loop started (its trigger message included)."""
    users: list[UserUttered] = []
    bots: list[BotUttered] = []
    for event in reversed(tracker.applied_events()):
        if isinstance(event, UserUttered):
            users.append(event)
        elif isinstance(event, BotUttered):
            bots.append(event)
        elif isinstance(event, ActiveLoop) and event.name == TWO_STAGE:
            break
    trigger = tracker.last_event(UserUttered, skip=len(users))
    if isinstance(trigger, UserUttered):
        users.append(trigger)
    return list(reversed(users)), list(reversed(bots))


@dataclass
class TwoStageFallback:
    name: str = TWO_STAGE

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        if tracker.active_loop_name != TWO_STAGE:
            return [ActiveLoop(name=TWO_STAGE), *ask_affirmation(tracker, context)]
        users, bots = _loop_turns(tracker)
        asked = [b.metadata.get("utter_action") for b in bots]
        last_ask = asked[-1] if asked else None
        intent = tracker.latest_intent
        unclear = intent == NLU_FALLBACK or (last_ask == ASK_AFFIRMATION and intent in DENIALS)
        if unclear:
            if last_ask == ASK_REPHRASE:
                return ask_affirmation(tracker, context)
            if ASK_REPHRASE in asked:
                return await self._give_up(tracker, context)
            return utter(ASK_REPHRASE, tracker, context)
        return self._continue_with(users, bots, tracker)

    @staticmethod
    def _continue_with(
        users: list[UserUttered], bots: list[BotUttered], tracker: Tracker
    ) -> list[Event]:
        latest = users[-1]
        suggested = bots[-1].metadata.get("intent") if bots else None
        if suggested is not None and latest.intent_name == suggested:
            clear = copy.deepcopy(users[0])  # the affirmed original message
            clear.parse_data["intent"] = {"name": suggested, "confidence": 1.0}
        else:
            clear = copy.deepcopy(latest)  # the rephrased message
        clear.metadata.pop("event_id", None)
        rewinds: list[Event] = [UserUtteranceReverted() for _ in users]
        return [*rewinds, ActionExecuted(name=ACTION_LISTEN), clear]

    @staticmethod
    async def _give_up(tracker: Tracker, context: ActionContext) -> list[Event]:
        final = context.action(context.settings.fallback_final_action)
        return [ActiveLoop(name=None), *await final.run(tracker, context)]


@dataclass
class AskAffirmation:
    name: str = "action_default_ask_affirmation"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return ask_affirmation(tracker, context)


@dataclass
class AskRephrase:
    name: str = "action_default_ask_rephrase"

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return utter(ASK_REPHRASE, tracker, context)


@dataclass
class HandoffToHuman:
    """Marks the conversation for a human agent: the bot stays silent until it is released.

    The mark is Rasa's `pause` event (so Rasa tools read the conversation as paused) with
    `metadata.handoff_to_human`; `Agent.release_handoff` resumes it.
    """

    name: str = HANDOFF

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        pause = ConversationPaused(
            metadata={
                HANDOFF_KEY: True,
                "requested_at": datetime.now(UTC).isoformat(),
                "intent": tracker.latest_intent,
                "active_loop": tracker.active_loop_name,
            }
        )
        loop_end: list[Event] = [ActiveLoop(name=None)] if tracker.active_loop_name else []
        return [*utter("utter_handoff", tracker, context), *loop_end, pause]
