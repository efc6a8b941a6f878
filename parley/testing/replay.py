"""Replaying a test story through an Agent and comparing what it predicts with the story.

Rasa's semantics (`rasa test --e2e`): the conversation follows the story, not the bot. User text
goes through the Agent's NLU and the parsed intent and entities are compared with the story's
(a step with only `intent:` is taken as given); at every action, including each `action_listen`,
the Agent's policies predict the next action and the prediction is compared with the story's.
Then the story's own event is applied, so one mistake does not hide the rest. Actions are not
run (no action server, no forms): the story's `slot_was_set` and `active_loop` steps say what
they did. When a form is predicted but the story does something else, the form is taken as
rejected (its validation failed) and the prediction is made again, as Rasa does.
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
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import Tracker
from parley.project.stories import Story
from parley.testing.cases import StoryCase, Turn, story_cases

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


def _form_may_have_rejected(agent: Agent, tracker: Tracker, predicted: str) -> bool:
    return tracker.active_loop_name == predicted and predicted in agent.domain.forms


def _action_outcome(agent: Agent, tracker: Tracker, turn: Turn, actions_in_turn: int) -> Outcome:
    assert isinstance(turn.event, ActionExecuted)
    expected = _expected_action(turn.event)
    if actions_in_turn >= agent.model.settings.max_actions_per_turn:
        return Outcome(turn, expected, ACTION_LIMIT_REACHED)
    prediction = agent.processor.predict(tracker)
    predicted = prediction.action or "action_listen"
    if predicted != expected and _form_may_have_rejected(agent, tracker, predicted):
        tracker.update(ActionExecutionRejected(name=predicted))
        prediction = agent.processor.predict(tracker)
        predicted = prediction.action or "action_listen"
    return Outcome(
        turn, expected, predicted, policy=prediction.policy_name, confidence=prediction.confidence
    )


async def replay_story(agent: Agent, case: StoryCase) -> StoryResult:
    """Replay one test story through `agent` (its NLU and policies; no action is run)."""
    tracker = Tracker(f"test: {case.name}", slot_defaults(agent.domain))
    outcomes: list[Outcome] = []
    actions_in_turn = 0
    for turn in case.turns:
        event = turn.event
        if isinstance(event, ActionExecuted):
            outcome = _action_outcome(agent, tracker, turn, actions_in_turn)
            tracker.update(
                ActionExecuted(
                    name=event.name,
                    action_text=event.action_text,
                    policy=outcome.policy,
                    confidence=outcome.confidence,
                )
            )
            actions_in_turn += 1
        elif isinstance(event, UserUttered):
            parse = await _parse(agent, event)
            outcome = user_outcome(turn, event, parse)
            # a text-only step goes on with what the NLU understood, as a live conversation would
            tracker.update(
                event if event.intent_name else UserUttered(text=event.text, parse_data=parse)
            )
            actions_in_turn = 0
        else:
            outcome = Outcome(turn)
            tracker.update(event)
        outcomes.append(outcome)
    return StoryResult(case, tuple(outcomes))


async def run_stories(agent: Agent, stories: Sequence[Story]) -> list[StoryResult]:
    """Replay every path of every story; results in the stories' order."""
    return [await replay_story(agent, case) for case in story_cases(stories, agent.domain)]
