"""The turn loop: a user message in, actions predicted and run until the bot listens again.

The processor works on an in-memory `Tracker`; loading, locking and storing are the Agent's job.
Every method appends the events it causes to the tracker and returns them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.dialogue.actions import ActionContext, ActionFailed, ActionRejected, resolve_action
from parley.dialogue.actions.builtin import BOT_TEXT_PREFIX, ActionSessionStart, utter
from parley.dialogue.actions.remote import run_custom
from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.events import (
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    Event,
    LoopInterrupted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from parley.dialogue.model import DialogueModel
from parley.dialogue.policies import PolicyPrediction
from parley.dialogue.slots import custom_mapping_actions, extract_slots
from parley.dialogue.tracker import ACTION_LISTEN, ACTION_SESSION_START, Tracker
from parley.observability.tracing import Tracing

logger = logging.getLogger(__name__)
ACTION_VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"

ALWAYS_HANDLED_INTENTS = ("restart", "session_start")  # even while paused (handoff)
ACTION_LIMIT_POLICY = "parley:action_limit"


def executed(name: str, policy: str | None, confidence: float | None) -> ActionExecuted:
    """The `action` event; an end-to-end bot text is logged as `action_text`, as Rasa does."""
    if name.startswith(BOT_TEXT_PREFIX):
        text = name.removeprefix(BOT_TEXT_PREFIX)
        return ActionExecuted(action_text=text, policy=policy, confidence=confidence)
    return ActionExecuted(name=name, policy=policy, confidence=confidence)


@dataclass
class Processor:
    model: DialogueModel
    runner: CustomActionRunner | None = None
    tracing: Tracing = field(default_factory=Tracing.off)

    def context(self, tracker: Tracker) -> ActionContext:
        return ActionContext(
            self.model.domain,
            self.model.settings,
            self.runner,
            tracker.latest_input_channel,
            resolve=resolve_action,
        )

    # -- sessions ----------------------------------------------------------------------------

    def session_expired(self, tracker: Tracker, now: float | None = None) -> bool:
        minutes = self.model.domain.session_config.session_expiration_time
        if minutes <= 0:
            return False
        last_user = tracker.last_event(UserUttered)
        if last_user is None:
            return False
        return (now or time.time()) - last_user.timestamp > minutes * 60

    async def update_session(
        self, tracker: Tracker, metadata: dict[str, Any] | None = None
    ) -> list[Event]:
        """Start a session when the conversation has none (new, restarted) or it expired."""
        if tracker.applied_count and not self.session_expired(tracker):
            return []
        start = len(tracker.events)
        action = ActionSessionStart(metadata=metadata or None)
        events = await action.run(tracker, self.context(tracker))
        tracker.update(ActionExecuted(name=ACTION_SESSION_START, confidence=1.0))
        tracker.update_all(events)
        return tracker.events[start:]

    # -- a turn ------------------------------------------------------------------------------

    async def handle_user(self, tracker: Tracker, message: UserUttered) -> list[Event]:
        """Log a user message and run the bot's reply (nothing while paused for a human)."""
        start = len(tracker.events)
        await self.receive_user(tracker, message)
        if tracker.paused and message.intent_name not in ALWAYS_HANDLED_INTENTS:
            logger.info("Conversation %s is paused; the bot stays silent.", tracker.sender_id)
            return tracker.events[start:]
        await self.predict_and_run(tracker)
        return tracker.events[start:]

    async def receive_user(
        self, tracker: Tracker, message: UserUttered, run_actions: bool = True
    ) -> None:
        """The first half of a turn: session, `action_listen`, the message, slot extraction
        (`run_actions=False`: mappings only, custom mapping actions are not run)."""
        await self.update_session(tracker, message.metadata)
        if tracker.latest_action_name != ACTION_LISTEN:
            tracker.update(ActionExecuted(name=ACTION_LISTEN))
        tracker.update(message)
        if tracker.paused and message.intent_name not in ALWAYS_HANDLED_INTENTS:
            return
        await self.extract_slots(tracker, run_actions)

    async def extract_slots(self, tracker: Tracker, run_actions: bool = True) -> None:
        """`action_extract_slots`: mappings, the actions of `custom` mappings, then the
        domain's `action_validate_slot_mappings` (rasa_sdk's ValidationAction) if declared.
        `run_actions=False` (a replayed story says what actions did): mappings only."""
        domain = self.model.domain
        if not run_actions:
            tracker.update_all(extract_slots(tracker, domain))
            return
        validate = ACTION_VALIDATE_SLOT_MAPPINGS in domain.actions
        working = tracker.copy() if validate else tracker
        start = len(working.events)
        working.update_all(extract_slots(working, domain))
        for name in custom_mapping_actions(working, domain):
            try:
                events = await self._run_custom(name, working)
            except (ActionFailed, ActionRejected) as exc:
                logger.error("Slot mapping action failed: %s", exc)
                continue
            working.update_all(e for e in events if isinstance(e, SlotSet | BotUttered))
        if validate:
            candidates = [e for e in working.events[start:] if isinstance(e, SlotSet)]
            tracker.update_all(await self._validate_slot_mappings(working, candidates))

    async def _validate_slot_mappings(
        self, working: Tracker, candidates: list[SlotSet]
    ) -> list[Event]:
        """As Rasa: the action sees the candidates as the tracker's last events; the values it
        sets replace them, a candidate it does not mention stays as extracted."""
        try:
            events = await self._run_custom(ACTION_VALIDATE_SLOT_MAPPINGS, working)
        except (ActionFailed, ActionRejected) as exc:
            logger.error("Slot validation action failed: %s", exc)
            return list(candidates)
        validated = [e for e in events if isinstance(e, SlotSet | BotUttered)]
        answered = {e.name for e in validated if isinstance(e, SlotSet)}
        return [*validated, *[e for e in candidates if e.name not in answered]]

    async def _run_custom(self, name: str, tracker: Tracker) -> list[Event]:
        """A custom action run for slot extraction (not logged as an action of the turn)."""
        with self.tracing.span("parley.action", {"parley.action": name, "parley.slots": True}):
            return await run_custom(name, tracker, self.context(tracker))

    def predict(self, tracker: Tracker) -> PolicyPrediction:
        if tracker.followup_action:
            return PolicyPrediction({tracker.followup_action: 1.0}, "followup", 10)
        if not self.tracing.enabled:
            return self.model.ensemble.predict(tracker, self.model.domain)
        with self.tracing.span("parley.policy.predict") as span:
            prediction = self.model.ensemble.predict(tracker, self.model.domain, self.tracing)
            if span is not None:
                span.set_attribute("parley.action", prediction.action or ACTION_LISTEN)
                span.set_attribute("parley.policy", prediction.policy_name)
                span.set_attribute("parley.confidence", prediction.confidence)
            return prediction

    async def predict_and_run(self, tracker: Tracker, driver: ActionDriver | None = None) -> None:
        """Predict and run actions until `action_listen`; at most `max_actions_per_turn`.

        `driver` decides which action follows a prediction and carries it out: by default the
        predicted action is run; a replayed story logs its own action and events instead.
        """
        driver = driver or RunPredicted()
        limit = self.model.settings.max_actions_per_turn
        for _ in range(limit):
            if tracker.paused and tracker.latest_intent not in ALWAYS_HANDLED_INTENTS:
                return
            choice = await driver.choose(self, tracker, self.predict(tracker))
            if choice is None:
                return
            action, policy, confidence = choice
            if (
                tracker.active_loop_name
                and tracker.latest_action_name == ACTION_LISTEN
                and action not in (tracker.active_loop_name, ACTION_LISTEN)
            ):
                tracker.update(LoopInterrupted(is_interrupted=True))
            await driver.perform(self, tracker, action, policy, confidence)
            last = tracker.events[-1]
            if isinstance(last, ActionExecuted) and last.name == ACTION_LISTEN:
                return
        message = f"stopped after {limit} actions without listening (a loop in stories/rules?)"
        logger.error("Conversation %s: %s", tracker.sender_id, message)
        await driver.stopped(self, tracker, message)

    async def run_action(
        self,
        tracker: Tracker,
        name: str,
        policy: str | None = None,
        confidence: float | None = None,
    ) -> list[Event]:
        """Run one action and log it (`action` event first, then its events, as Rasa)."""
        start = len(tracker.events)
        context = self.context(tracker)
        try:
            attributes = {"parley.action": name, "parley.policy": policy}
            with self.tracing.span("parley.action", attributes):
                events = await resolve_action(name, self.model.domain).run(tracker, context)
        except ActionRejected as exc:
            logger.debug("%s", exc)
            tracker.update(ActionExecutionRejected(name=name, policy=policy, confidence=confidence))
            return tracker.events[start:]
        except ActionFailed as exc:
            logger.error("%s", exc)
            tracker.update(
                ActionExecutionRejected(
                    name=name, policy=policy, confidence=confidence, metadata={"error": str(exc)}
                )
            )
            # the domain's `utter_action_failed` says "cannot do that now" better than a rephrase
            fallback = (
                "utter_action_failed"
                if "utter_action_failed" in self.model.domain.responses
                else "utter_default"
            )
            tracker.update_all(utter(fallback, tracker, context))
            tracker.update(ActionExecuted(name=ACTION_LISTEN, policy=policy, confidence=1.0))
            return tracker.events[start:]
        if not any(isinstance(e, ActionExecutionRejected) for e in events):
            tracker.update(executed(name, policy, confidence))
        tracker.update_all(events)
        if events and isinstance(events[-1], UserUttered):  # a fallback restored a message
            await self.extract_slots(tracker)
        elif any(isinstance(e, UserUtteranceReverted) for e in events):
            # the message was forgotten (e.g. default fallback): wait for the next one
            tracker.update(ActionExecuted(name=ACTION_LISTEN, policy=policy, confidence=1.0))
        return tracker.events[start:]


Choice = tuple[str, str | None, float | None]  # action, policy, confidence


class ActionDriver(Protocol):
    """Who carries out a turn's actions: the actions themselves (a live conversation) or a
    test story, which says what each action did (a replay)."""

    async def choose(
        self, processor: Processor, tracker: Tracker, prediction: PolicyPrediction
    ) -> Choice | None:
        """The action taken after `prediction` (None: the turn ends without one)."""
        ...

    async def perform(
        self,
        processor: Processor,
        tracker: Tracker,
        action: str,
        policy: str | None,
        confidence: float | None,
    ) -> None:
        """Log `action` and its events on `tracker`."""
        ...

    async def stopped(self, processor: Processor, tracker: Tracker, message: str) -> None:
        """The turn reached `max_actions_per_turn` without listening."""
        ...


class RunPredicted:
    """The live driver: the predicted action runs."""

    async def choose(
        self, processor: Processor, tracker: Tracker, prediction: PolicyPrediction
    ) -> Choice | None:
        return prediction.action or ACTION_LISTEN, prediction.policy_name, prediction.confidence

    async def perform(
        self,
        processor: Processor,
        tracker: Tracker,
        action: str,
        policy: str | None,
        confidence: float | None,
    ) -> None:
        await processor.run_action(tracker, action, policy, confidence)

    async def stopped(self, processor: Processor, tracker: Tracker, message: str) -> None:
        tracker.update(
            ActionExecuted(
                name=ACTION_LISTEN,
                policy=ACTION_LIMIT_POLICY,
                confidence=1.0,
                metadata={"error": message},
            )
        )
