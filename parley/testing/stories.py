"""Replaying test stories through an Agent's model, as `rasa test` does.

Each story is replayed turn by turn: a user step's text goes through the NLU (when it has text)
and its intent is compared with the story's; before each action step the model predicts the next
action, which is compared with the story's. The story's own events are then applied (actions are
not run), so one wrong prediction does not derail the rest. As in Rasa, when the model predicts
the active form but the story does something else, the form is treated as rejected and the
model asked again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.agent import Agent
from parley.dialogue.events import ActionExecuted, ActionExecutionRejected, Event, UserUttered
from parley.dialogue.slots import slot_defaults
from parley.dialogue.state import BOT_TEXT_PREFIX
from parley.dialogue.tracker import Tracker
from parley.dialogue.training_data import expand_or, story_events
from parley.project.stories import Story


@dataclass(frozen=True)
class Mismatch:
    """One step where the model disagreed with the story."""

    step: int  # index of the story's event
    kind: str  # "action" or "intent"
    expected: str
    predicted: str
    policy: str | None = None


@dataclass
class StoryResult:
    name: str
    mismatches: list[Mismatch] = field(default_factory=list)
    predictions: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


async def _check_user(
    agent: Agent, event: UserUttered, index: int, result: StoryResult, check_nlu: bool
) -> None:
    if not check_nlu or not event.text or agent.interpreter is None:
        return
    parsed: dict[str, Any] = await agent.parse(event.text)
    predicted = str((parsed.get("intent") or {}).get("name") or "None")
    expected = event.intent_name
    if expected is not None and "/" in expected and predicted == expected.split("/", 1)[0]:
        # a retrieval intent: the response selector names the full intent
        selector = (parsed.get("response_selector") or {}).get(predicted) or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        predicted = str(key or predicted)
    if expected is not None and predicted != expected:
        result.mismatches.append(Mismatch(index, "intent", expected, predicted, "NLU"))


async def replay_events(
    agent: Agent, name: str, events: list[Event], check_nlu: bool = True
) -> StoryResult:
    """Replay one expanded story's events; see the module docstring."""
    result = StoryResult(name)
    domain = agent.domain
    tracker = Tracker(f"test-{name}", slot_defaults(domain))
    processor = agent.processor
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            await _check_user(agent, event, index, result, check_nlu)
        if isinstance(event, ActionExecuted) and index > 0:
            expected = event.name or f"{BOT_TEXT_PREFIX}{event.action_text}"
            prediction = processor.predict(tracker)
            predicted = prediction.action or "action_listen"
            loop = tracker.active_loop_name
            if predicted != expected and predicted == loop:
                tracker.update(ActionExecutionRejected(name=loop))
                prediction = processor.predict(tracker)
                predicted = prediction.action or "action_listen"
            result.predictions.append((expected, predicted, prediction.policy_name))
            if predicted != expected:
                result.mismatches.append(
                    Mismatch(index, "action", expected, predicted, prediction.policy_name)
                )
        tracker.update(event)
    return result


async def replay_story(agent: Agent, story: Story, check_nlu: bool = True) -> list[StoryResult]:
    """Every `or` alternative of a test story, replayed."""
    results = []
    for steps in expand_or(story.steps):
        events = story_events(steps, end_with_listen=False)
        results.append(await replay_events(agent, story.name, events, check_nlu))
    return results


async def replay_stories(
    agent: Agent, stories: tuple[Story, ...] | list[Story], check_nlu: bool = True
) -> list[StoryResult]:
    results: list[StoryResult] = []
    for story in stories:
        results.extend(await replay_story(agent, story, check_nlu))
    return results
