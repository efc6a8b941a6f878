"""Test stories as the turns `parley test` replays: what the user says, what the bot should do.

A test story becomes the event sequence Rasa builds from it: an `action_listen` before every user
message and at the end, and the slots the user message's entities fill through mappings without
conditions (Rasa's implicit `slot_was_set`). Each turn remembers the story step it came from so
a failed story is written back in the story format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley.dialogue.events import ActionExecuted, Event, SlotSet, UserUttered
from parley.dialogue.tracker import ACTION_LISTEN
from parley.dialogue.training_data import expand_or, join_checkpoints, step_events
from parley.project.domain import Domain
from parley.project.stories import Rule, Step, Story, UserStep

RETRIEVAL_DELIMITER = "/"  # `faq/ask_hours`: retrieval intent `faq`, response key `ask_hours`


@dataclass(frozen=True)
class Turn:
    """One event of a test story; `implicit` when the story did not write it out."""

    event: Event
    step: Step | None = None
    implicit: bool = False


@dataclass(frozen=True)
class StoryCase:
    """A test story (one path of it, when it has `or` steps or checkpoints), ready to replay."""

    name: str
    source: str | None
    turns: tuple[Turn, ...] = field(default=())


def gold_user_event(step: UserStep) -> UserUttered:
    """The user message a test step stands for: its intent (a retrieval intent split as Rasa
    does) and its entities, with their positions in the text when annotated."""
    entities: list[dict[str, Any]] = []
    if step.annotations:
        entities = [dict(a.as_rasa_dict()) for a in step.annotations]
    else:
        for entity in step.entities:
            item: dict[str, Any] = {"entity": entity.entity, "value": entity.value}
            item.update({k: v for k, v in (("role", entity.role), ("group", entity.group)) if v})
            entities.append(item)
    parse: dict[str, Any] = {"text": step.text, "entities": entities}
    if step.intent is not None:
        intent: dict[str, Any] = {"name": step.intent, "confidence": 1.0}
        if RETRIEVAL_DELIMITER in step.intent:
            intent["name"] = step.intent.split(RETRIEVAL_DELIMITER, 1)[0]
            intent["full_retrieval_intent_name"] = step.intent
        parse["intent"] = intent
        parse["intent_ranking"] = [dict(intent)]
    return UserUttered(text=step.text, parse_data=parse)


def entity_slots(domain: Domain, entities: list[dict[str, Any]]) -> list[SlotSet]:
    """Slots the entities fill through `from_entity` mappings without an active-loop condition
    (what Rasa adds after a story's user step without it being written)."""
    events: list[SlotSet] = []
    for slot in domain.slots:
        values = [
            e.get("value")
            for mapping in slot.mappings
            if mapping.type == "from_entity" and not any(c.active_loop for c in mapping.conditions)
            for e in entities
            if e.get("entity") == mapping.entity
            and e.get("role") == mapping.role
            and e.get("group") == mapping.group
        ]
        if values:
            events.append(
                SlotSet(name=slot.name, value=values if slot.type == "list" else values[-1])
            )
    return events


def story_turns(steps: Sequence[Step], domain: Domain) -> list[Turn]:
    """The turns of one path through a story, ending with the bot listening."""
    turns: list[Turn] = []
    for step in steps:
        previous = turns[-1].event if turns else None
        for event in step_events(step, previous):
            if isinstance(event, UserUttered) and isinstance(step, UserStep):
                gold = gold_user_event(step)
                turns.append(Turn(gold, step))
                turns += [Turn(s, step, implicit=True) for s in entity_slots(domain, gold.entities)]
            elif isinstance(event, ActionExecuted) and event.name == ACTION_LISTEN:
                explicit = getattr(step, "action", None) == ACTION_LISTEN
                turns.append(Turn(event, step if explicit else None, implicit=not explicit))
            else:
                turns.append(Turn(event, step))
    last = turns[-1].event if turns else None
    if not (isinstance(last, ActionExecuted) and last.name == ACTION_LISTEN):
        turns.append(Turn(ActionExecuted(name=ACTION_LISTEN), None, implicit=True))
    return turns


def story_cases(stories: Sequence[Story], domain: Domain) -> list[StoryCase]:
    """Test cases of the stories: one per path (checkpoints joined, `or` steps expanded)."""
    sources = {s.name: str(s.location.path) if s.location else None for s in stories}
    cases: list[StoryCase] = []
    for name, steps in join_checkpoints(stories):
        for expanded in expand_or(steps):
            cases.append(StoryCase(name, sources.get(name), tuple(story_turns(expanded, domain))))
    return cases


def rule_cases(rules: Sequence[Rule], domain: Domain) -> list[StoryCase]:
    """Rules as test cases (`rasa test core --stories data/` skips rules; Parley checks them
    too): the listening before the rule and its `condition` are the given start, then its steps
    are judged; the final `action_listen` is expected only when the rule waits for the user."""
    cases: list[StoryCase] = []
    for rule in rules:
        source = str(rule.location.path) if rule.location else None
        start = [Turn(ActionExecuted(name=ACTION_LISTEN), None, implicit=True)]
        for step in rule.condition:
            start += [Turn(e, step, implicit=True) for e in step_events(step, None)]
        for expanded in expand_or(rule.steps):
            turns = story_turns(expanded, domain)
            first = turns[0].event if turns else None
            if isinstance(first, ActionExecuted) and first.name == ACTION_LISTEN:
                turns = turns[1:]  # the start's listening stands for it
            if not rule.wait_for_user_input and turns and turns[-1].implicit:
                turns = turns[:-1]
            cases.append(StoryCase(rule.name, source, (*start, *turns)))
    return cases
