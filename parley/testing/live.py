"""Running test stories for real (`parley test --live`): the conversation as production runs it.

Each user step is sent to the Agent (its text, or `/intent{entities}` when it has none), so NLU,
slot mappings, forms and custom actions (through the project's action server or in-process
actions) all run. The actions the bot ran in that turn are compared with the story's, in order,
and each `slot_was_set` / `active_loop` step is checked against the conversation as it was at
that point (after the story's preceding action). A conversation paused for a human counts as
listening. Unlike the replay (Rasa's semantics), a story must spell out what its forms and
actions really do, e.g. every question a form asks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from parley.agent import Agent
from parley.dialogue.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from parley.dialogue.slots import slot_defaults
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.dialogue.training_data import ANY_SLOT_VALUE
from parley.project.stories import Story
from parley.testing.cases import StoryCase, Turn, story_cases
from parley.testing.replay import Outcome, StoryResult, user_outcome

NOTHING = "nothing"  # what the bot did where the story expects one more action


def _message_text(event: UserUttered) -> str:
    if event.text:
        return event.text
    intent = event.parse_data.get("intent") or {}
    name = intent.get("full_retrieval_intent_name") or intent.get("name")
    values = {e["entity"]: e.get("value") for e in event.entities if "entity" in e}
    return f"/{name}{json.dumps(values) if values else ''}"


def _segments(turns: Sequence[Turn]) -> list[list[Turn]]:
    """The story split before each user message (the first segment: before anyone spoke)."""
    segments: list[list[Turn]] = [[]]
    for turn in turns:
        if isinstance(turn.event, UserUttered):
            segments.append([])
        segments[-1].append(turn)
    return segments


def _state_check(turn: Turn, tracker: Tracker) -> Outcome:
    event = turn.event
    if isinstance(event, SlotSet):
        value = tracker.get_slot(event.name)
        if event.value == ANY_SLOT_VALUE:
            holds = "some value" if value is not None else "None"
            return Outcome(turn, f"{event.name}: some value", f"{event.name}: {holds}")
        return Outcome(turn, f"{event.name}: {event.value!r}", f"{event.name}: {value!r}")
    if isinstance(event, ActiveLoop):
        return Outcome(turn, str(event.name), str(tracker.active_loop_name))
    return Outcome(turn)


def _check_turn(segment: list[Turn], events: list[Event], tracker: Tracker) -> list[Outcome]:
    """Compare one turn's story steps with the events the bot logged after the user spoke.

    `tracker` holds the conversation before those events; it is advanced through them.
    """
    outcomes: list[Outcome] = []
    position = 0

    def advance_to_next_action() -> ActionExecuted | None:
        nonlocal position
        while position < len(events):
            event = events[position]
            position += 1
            if isinstance(event, ActionExecuted):
                return event
            form_rejected = (
                isinstance(event, ActionExecutionRejected)
                and not event.metadata.get("error")
                and event.name == tracker.active_loop_name
            )
            tracker.update(event)
            if form_rejected:
                continue  # the active form found nothing to fill: as the replay, not a step
            if isinstance(event, ActionExecutionRejected):  # the bot tried it and it failed
                why = "failed" if event.metadata.get("error") else "rejected"
                return ActionExecuted(name=f"{event.name} ({why})", policy=event.policy)
        return None

    for turn in segment:
        event = turn.event
        if isinstance(event, ActionExecuted):
            done = advance_to_next_action()
            if done is None and tracker.paused and event.name == ACTION_LISTEN:
                done = ActionExecuted(name=ACTION_LISTEN)  # waiting for a human is listening
            expected = event.name if event.name is not None else f"text:{event.action_text}"
            predicted = (done.name or f"text:{done.action_text}") if done else NOTHING
            outcomes.append(
                Outcome(
                    turn,
                    expected,
                    predicted,
                    policy=done.policy if done else None,
                    confidence=done.confidence if done else None,
                )
            )
            if done is not None:
                if any(done is e for e in events):
                    tracker.update(done)
                while position < len(events) and not isinstance(events[position], ActionExecuted):
                    tracker.update(events[position])  # what the action did
                    position += 1
        elif not turn.implicit:
            outcomes.append(_state_check(turn, tracker))
    return outcomes


async def run_story_live(agent: Agent, case: StoryCase) -> StoryResult:
    """Run one test story's conversation through `agent`; see the module docstring."""
    sender = f"test-{uuid.uuid4().hex[:12]}"
    outcomes: list[Outcome] = []
    for segment in _segments(case.turns):
        if not segment or not isinstance(segment[0].event, UserUttered):
            continue  # before anyone spoke the bot only listens
        sent = segment[0].event
        before = (await agent.get_tracker(sender)).events
        await agent.handle_message(sender, _message_text(sent))
        after = (await agent.get_tracker(sender)).events[len(before) :]
        spoke = next((i for i, e in enumerate(after) if isinstance(e, UserUttered)), None)
        said = after[spoke] if spoke is not None else None
        assert said is None or isinstance(said, UserUttered)
        outcomes.append(user_outcome(segment[0], sent, said.parse_data if said else {}))
        tracker = Tracker(
            sender, slot_defaults(agent.domain), [*before, *after[: (spoke or 0) + 1]]
        )
        rest = after[(spoke or 0) + 1 :]
        outcomes += _check_turn(segment[1:], rest, tracker)
    return StoryResult(case, tuple(outcomes))


async def run_stories_live(agent: Agent, stories: Sequence[Story]) -> list[StoryResult]:
    """Run every path of every story live; results in the stories' order."""
    return [await run_story_live(agent, case) for case in story_cases(stories, agent.domain)]
