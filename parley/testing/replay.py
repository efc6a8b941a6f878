"""Replaying a test story through an Agent and comparing what it predicts with the story.

Rasa's semantics (`rasa test`): the conversation follows the story, not the bot. The story's
first event is taken as given (Rasa predicts from the second event on; a new conversation's
session start already ends in `action_listen`). User text goes through the Agent's NLU and the
parsed intent and entities are compared with the story's (a step with only `intent:` is taken
as given). Each user turn then goes through the engine's own turn path (`Processor`: session,
slot extraction, the predict loop); at every action, including each `action_listen`, the
policies' prediction is compared with the story's action, and the story's action and the events
it wrote after it (`slot_was_set`, `active_loop`) are logged instead of running the action, so
one mistake does not hide the rest. When a form is predicted but the story does something else,
the form is taken as rejected (its validation failed) and the prediction is made again, as
Rasa does; a predicted `action_unlikely_intent` the story does not expect is skipped likewise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.agent import Agent
from parley.dialogue.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SlotSet,
    UserUttered,
)
from parley.dialogue.policies import PolicyPrediction
from parley.dialogue.processor import Choice, Processor
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.project.domain import Domain
from parley.project.stories import Rule, Story
from parley.testing.cases import StoryCase, Turn, rule_cases, story_cases

ACTION_UNLIKELY_INTENT = "action_unlikely_intent"
ACTION_LIMIT_REACHED = "circuit breaker tripped"  # Rasa's label when a turn never listens
_ENTITY_KEYS = ("start", "end", "entity", "value")


@dataclass(frozen=True)
class Outcome:
    """What was expected at one turn and what the Agent predicted (None: nothing to predict)."""

    turn: Turn
    expected: str | None = None
    predicted: str | None = None
    expected_entities: tuple[dict[str, Any], ...] = ()
    predicted_entities: tuple[dict[str, Any], ...] = ()
    policy: str | None = None
    confidence: float | None = None

    @property
    def kind(self) -> str:
        if isinstance(self.turn.event, ActionExecuted):
            return "action"
        if isinstance(self.turn.event, UserUttered):
            return "user"
        if isinstance(self.turn.event, SlotSet):
            return "slot"
        if isinstance(self.turn.event, ActiveLoop):
            return "loop"
        return "event"

    @property
    def correct(self) -> bool:
        return self.expected == self.predicted and self.expected_entities == self.predicted_entities


@dataclass(frozen=True)
class StoryResult:
    case: StoryCase
    outcomes: tuple[Outcome, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(o.correct for o in self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def comparable_entities(entities: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Entities reduced to what the test compares (position, type, value as text), in order."""
    cleaned = []
    for entity in entities:
        item = {k: entity[k] for k in _ENTITY_KEYS if k in entity}
        if "value" in item:
            item["value"] = str(item["value"])
        cleaned.append(item)
    return tuple(sorted(cleaned, key=lambda e: (e.get("start", -1), e.get("end", -1))))


def predicted_intent(expected: str | None, parse: dict[str, Any]) -> str | None:
    """The parsed intent; the full retrieval intent (`faq/ask_hours`) when the story names one."""
    name = (parse.get("intent") or {}).get("name")
    if expected is None or name == expected or "/" not in expected:
        return str(name) if name is not None else None
    selectors = parse.get("response_selector") or {}
    for key in (name, "default"):
        selected = selectors.get(key) if isinstance(key, str) else None
        response = selected.get("response") if isinstance(selected, dict) else None
        full = response.get("intent_response_key") if isinstance(response, dict) else None
        if isinstance(full, str) and full.split("/", 1)[0] == name:
            return full
    return str(name) if name is not None else None


def user_outcome(turn: Turn, event: UserUttered, parse: dict[str, Any]) -> Outcome:
    """The story's intent and entities for `event` against what the NLU made of it."""
    intent = event.parse_data.get("intent") or {}
    expected = intent.get("full_retrieval_intent_name") or intent.get("name")
    expected_entities: tuple[dict[str, Any], ...] = ()
    predicted_entities: tuple[dict[str, Any], ...] = ()
    if event.entities or (parse.get("entities") and expected is not None):
        expected_entities = comparable_entities(event.entities)
        predicted_entities = comparable_entities(list(parse.get("entities") or []))
    if expected is None:  # a text-only step labels no intent: only its entities are judged
        return Outcome(turn, None, None, expected_entities, predicted_entities)
    return Outcome(
        turn, expected, predicted_intent(expected, parse), expected_entities, predicted_entities
    )


async def _parse(agent: Agent, event: UserUttered) -> dict[str, Any]:
    # without text (or without NLU in the model) the story's intent is taken as given
    return await agent.parse(event.text) if event.text and agent.interpreter else event.parse_data


def _expected_action(event: ActionExecuted) -> str:
    return event.name if event.name is not None else f"text:{event.action_text}"


def _form_may_have_rejected(domain: Domain, tracker: Tracker, predicted: str) -> bool:
    return tracker.active_loop_name == predicted and predicted in domain.forms


@dataclass
class StoryDriver:
    """Drives the engine's predict loop through one turn of a story: the story's actions are
    logged (with the events the story wrote after them) and each prediction is judged."""

    turns: list[Turn]
    outcomes: list[Outcome]

    def apply_events(self, tracker: Tracker) -> None:
        """The story's events up to its next action or user message."""
        while self.turns and not isinstance(self.turns[0].event, ActionExecuted | UserUttered):
            turn = self.turns.pop(0)
            tracker.update(turn.event)
            self.outcomes.append(Outcome(turn))

    async def choose(
        self, processor: Processor, tracker: Tracker, prediction: PolicyPrediction
    ) -> Choice | None:
        if not self.turns or not isinstance(self.turns[0].event, ActionExecuted):
            return None
        turn = self.turns[0]
        assert isinstance(turn.event, ActionExecuted)
        expected = _expected_action(turn.event)
        predicted = prediction.action or ACTION_LISTEN
        if predicted != expected and predicted == ACTION_UNLIKELY_INTENT:
            # UnexpecTEDIntentPolicy's warning is not what the story tests: Rasa predicts again
            warned = tracker.copy()
            warned.update(ActionExecuted(name=predicted))
            prediction = processor.predict(warned)
            predicted = prediction.action or ACTION_LISTEN
        if predicted != expected and _form_may_have_rejected(
            processor.model.domain, tracker, predicted
        ):
            tracker.update(ActionExecutionRejected(name=predicted))
            prediction = processor.predict(tracker)
            predicted = prediction.action or ACTION_LISTEN
        self.outcomes.append(
            Outcome(
                turn,
                expected,
                predicted,
                policy=prediction.policy_name,
                confidence=prediction.confidence,
            )
        )
        return expected, prediction.policy_name, prediction.confidence

    async def perform(
        self,
        processor: Processor,
        tracker: Tracker,
        action: str,
        policy: str | None,
        confidence: float | None,
    ) -> None:
        turn = self.turns.pop(0)
        assert isinstance(turn.event, ActionExecuted)
        tracker.update(
            ActionExecuted(
                name=turn.event.name,
                action_text=turn.event.action_text,
                policy=policy,
                confidence=confidence,
            )
        )
        self.apply_events(tracker)

    async def stopped(self, processor: Processor, tracker: Tracker, message: str) -> None:
        """Rasa's circuit breaker: the story's remaining actions of the turn count as wrong."""
        while self.turns and not isinstance(self.turns[0].event, UserUttered):
            turn = self.turns.pop(0)
            tracker.update(turn.event)
            if isinstance(turn.event, ActionExecuted):
                expected = _expected_action(turn.event)
                self.outcomes.append(Outcome(turn, expected, ACTION_LIMIT_REACHED))
            else:
                self.outcomes.append(Outcome(turn))


async def _start(
    agent: Agent, tracker: Tracker, turns: list[Turn], outcomes: list[Outcome]
) -> None:
    """The story's first event, taken as given: a new session when it is the listening before
    the first message, otherwise the event itself."""
    turn = turns.pop(0)
    event = turn.event
    if isinstance(event, ActionExecuted) and event.name == ACTION_LISTEN:
        await agent.processor.update_session(tracker)
    else:
        tracker.update(event)
    outcomes.append(Outcome(turn))


async def replay_story(agent: Agent, case: StoryCase) -> StoryResult:
    """Replay one test story through `agent`'s NLU and turn loop (no action is run)."""
    processor = agent.processor
    tracker = Tracker(f"test: {case.name}", slot_defaults(agent.domain))
    outcomes: list[Outcome] = []
    turns = list(case.turns)
    if turns and not isinstance(turns[0].event, UserUttered):
        await _start(agent, tracker, turns, outcomes)
    while turns:
        driver = StoryDriver(turns, outcomes)
        turn = turns[0]
        if isinstance(turn.event, UserUttered):
            turns.pop(0)
            event = turn.event
            parse = await _parse(agent, event)
            outcomes.append(user_outcome(turn, event, parse))
            # a text-only step goes on with what the NLU understood, as a live conversation would
            message = event if event.intent_name else UserUttered(text=event.text, parse_data=parse)
            await processor.receive_user(tracker, message, run_actions=False)
        driver.apply_events(tracker)  # what the story says happened before the next action
        await processor.predict_and_run(tracker, driver)
        if turns and turns[0] is turn:  # nothing consumed: an event the loop cannot take
            tracker.update(turns.pop(0).event)
            outcomes.append(Outcome(turn))
    return StoryResult(case, tuple(outcomes))


async def run_stories(
    agent: Agent, stories: Sequence[Story], rules: Sequence[Rule] = ()
) -> list[StoryResult]:
    """Replay every path of every story, then of every rule; results in their order."""
    cases = [*story_cases(stories, agent.domain), *rule_cases(rules, agent.domain)]
    return [await replay_story(agent, case) for case in cases]
