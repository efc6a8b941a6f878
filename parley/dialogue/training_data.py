"""Stories into event sequences for training: checkpoints joined, `or` steps expanded."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from parley.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from parley.dialogue.tracker import ACTION_LISTEN
from parley.project.stories import (
    ANY_VALUE,
    ActionStep,
    ActiveLoopStep,
    CheckpointStep,
    OrStep,
    SlotStep,
    Step,
    Story,
    UserStep,
)

ANY_SLOT_VALUE = "__any__"  # stands for `slot_was_set: [name]` (some value)
MAX_PATHS_PER_STORY = 64
MAX_CHECKPOINT_DEPTH = 8


@dataclass(frozen=True)
class _Segment:
    name: str
    starts: tuple[str, ...]  # checkpoints this segment continues from (empty: story start)
    steps: tuple[Step, ...]
    ends: tuple[str, ...]  # checkpoints this segment leads to (empty: story end)


def _segments(story: Story) -> list[_Segment]:
    """Split a story at its checkpoints."""
    segments: list[_Segment] = []
    starts: list[str] = []
    steps: list[Step] = []
    ends: list[str] = []
    for step in story.steps:
        if isinstance(step, CheckpointStep):
            if steps:
                ends.append(step.name)
            else:
                starts.append(step.name)
            continue
        if ends:
            segments.append(_Segment(story.name, tuple(starts), tuple(steps), tuple(ends)))
            starts, steps, ends = list(ends), [], []
        steps.append(step)
    segments.append(_Segment(story.name, tuple(starts), tuple(steps), tuple(ends)))
    return segments


def join_checkpoints(stories: Sequence[Story]) -> list[tuple[str, tuple[Step, ...]]]:
    """Whole step sequences from story start to story end, following checkpoints."""
    segments = [seg for story in stories for seg in _segments(story)]
    by_start: dict[str, list[_Segment]] = {}
    for seg in segments:
        for name in seg.starts:
            by_start.setdefault(name, []).append(seg)
    paths: list[tuple[str, tuple[Step, ...]]] = []

    def walk(seg: _Segment, prefix: tuple[Step, ...], depth: int, count: list[int]) -> None:
        steps = prefix + seg.steps
        followers = [f for name in seg.ends for f in by_start.get(name, [])]
        if not followers or depth >= MAX_CHECKPOINT_DEPTH:
            if count[0] < MAX_PATHS_PER_STORY:
                paths.append((seg.name, steps))
                count[0] += 1
            return
        for follower in followers:
            walk(follower, steps, depth + 1, count)

    for seg in segments:
        if not seg.starts:
            walk(seg, (), 0, [0])
    return paths


def expand_or(steps: Sequence[Step]) -> Iterator[tuple[Step, ...]]:
    """Every combination of the alternatives of `or` steps."""
    choices: list[Sequence[Step]] = [
        step.alternatives if isinstance(step, OrStep) else (step,) for step in steps
    ]
    for combination in itertools.islice(itertools.product(*choices), MAX_PATHS_PER_STORY):
        yield tuple(combination)


def user_event(step: UserStep) -> UserUttered:
    """The user message a story step stands for (intent with confidence 1, entities)."""
    entities: list[dict[str, Any]] = []
    for entity in step.entities:
        item: dict[str, Any] = {"entity": entity.entity, "value": entity.value}
        if entity.role is not None:
            item["role"] = entity.role
        if entity.group is not None:
            item["group"] = entity.group
        entities.append(item)
    parse: dict[str, Any] = {"text": step.text, "entities": entities}
    if step.intent is not None:
        parse["intent"] = {"name": step.intent, "confidence": 1.0}
    return UserUttered(text=step.text, parse_data=parse)


def step_events(step: Step, previous: Event | None) -> list[Event]:
    """Events for one (non-`or`, non-checkpoint) step; a user step gets its `action_listen`."""
    if isinstance(step, UserStep):
        listen_before = isinstance(previous, ActionExecuted) and previous.name == ACTION_LISTEN
        listen: list[Event] = [] if listen_before else [ActionExecuted(name=ACTION_LISTEN)]
        return [*listen, user_event(step)]
    if isinstance(step, ActionStep):
        if step.action is not None:
            return [ActionExecuted(name=step.action)]
        return [ActionExecuted(action_text=step.bot_text)]
    if isinstance(step, SlotStep):
        return [
            SlotSet(name=name, value=ANY_SLOT_VALUE if value is ANY_VALUE else value)
            for name, value in step.slots
        ]
    if isinstance(step, ActiveLoopStep):
        return [ActiveLoop(name=step.name)]
    return []


def story_events(steps: Sequence[Step], end_with_listen: bool = True) -> list[Event]:
    events: list[Event] = []
    for step in steps:
        events.extend(step_events(step, events[-1] if events else None))
    last_action = next((e for e in reversed(events) if isinstance(e, ActionExecuted)), None)
    ends_listening = (
        bool(events) and last_action is events[-1] and last_action.name == ACTION_LISTEN
    )
    if end_with_listen and events and not ends_listening:
        events.append(ActionExecuted(name=ACTION_LISTEN))
    return events


def training_stories(stories: Sequence[Story]) -> list[tuple[str, list[Event]]]:
    """(story name, events) for every path through `stories`."""
    out: list[tuple[str, list[Event]]] = []
    for name, steps in join_checkpoints(stories):
        for expanded in expand_or(steps):
            out.append((name, story_events(expanded)))
    return out
