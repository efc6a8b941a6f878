"""Stories, rules and test stories: sequences of user turns and assistant actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.project.entities import AnnotationError, EntityAnnotation, parse_annotated
from parley.project.errors import Location, ProblemSink
from parley.project.yamlio import (
    check_keys,
    expect,
    item_location,
    key_location,
    node_location,
    plain,
    value_location,
)

ANY_VALUE: Any = type("AnyValue", (), {"__repr__": lambda self: "ANY_VALUE"})()
"""`slot_was_set: [name]` without a value: the slot holds some value."""


@dataclass(frozen=True)
class StepEntity:
    entity: str
    value: Any = None
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class UserStep:
    """`intent:` and/or `user:` text (end-to-end); text may carry entity annotations."""

    intent: str | None = None
    text: str | None = None
    entities: tuple[StepEntity, ...] = ()
    annotations: tuple[EntityAnnotation, ...] = ()
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ActionStep:
    """`action: name`, or `bot: text` for an end-to-end bot utterance."""

    action: str | None = None
    bot_text: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SlotStep:
    slots: tuple[tuple[str, Any], ...] = ()
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ActiveLoopStep:
    name: str | None = None  # None: the loop was deactivated
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CheckpointStep:
    name: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OrStep:
    alternatives: tuple[UserStep | SlotStep, ...]
    location: Location | None = field(default=None, compare=False)


Step = UserStep | ActionStep | SlotStep | ActiveLoopStep | CheckpointStep | OrStep


@dataclass(frozen=True)
class Story:
    name: str
    steps: tuple[Step, ...]
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rule:
    name: str
    steps: tuple[Step, ...]
    condition: tuple[Step, ...] = ()
    conversation_start: bool = False
    wait_for_user_input: bool = True
    location: Location | None = field(default=None, compare=False)


_STEP_KINDS = ("intent", "user", "action", "bot", "slot_was_set", "active_loop", "checkpoint", "or")


def _parse_entities(path: Path, step: Any, sink: ProblemSink) -> tuple[StepEntity, ...]:
    raw = step.get("entities")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        sink.error(value_location(path, step, "entities"), "'entities' must be a list")
        return ()
    out: list[StepEntity] = []
    for index, item in enumerate(raw):
        loc = item_location(path, raw, index)
        if isinstance(item, str):
            out.append(StepEntity(item))
        elif isinstance(item, dict) and "entity" in item:
            check_keys(path, item, {"entity", "value", "role", "group"}, sink, "an entity")
            out.append(
                StepEntity(
                    str(item["entity"]),
                    plain(item.get("value")),
                    item.get("role"),
                    item.get("group"),
                )
            )
        elif isinstance(item, dict) and len(item) == 1:
            name = str(next(iter(item)))
            out.append(StepEntity(name, plain(item[name])))
        else:
            sink.error(loc, "an entity must be a name, `name: value` or a mapping with 'entity'")
    return tuple(out)


def _parse_user(path: Path, step: Any, loc: Location, sink: ProblemSink) -> UserStep | None:
    check_keys(path, step, {"intent", "user", "entities", "metadata"}, sink, "a user step")
    intent = step.get("intent")
    if intent is not None and not expect(path, step, "intent", str, sink, "a step"):
        return None
    text = step.get("user")
    annotations: tuple[EntityAnnotation, ...] = ()
    if text is not None:
        if not expect(path, step, "user", str, sink, "a step"):
            return None
        try:
            text, annotations = parse_annotated(str(text).strip())
        except AnnotationError as exc:
            sink.error(value_location(path, step, "user"), str(exc))
            return None
    entities = _parse_entities(path, step, sink)
    if not entities and annotations:
        entities = tuple(StepEntity(a.entity, a.value, a.role, a.group) for a in annotations)
    return UserStep(intent, text, entities, annotations, loc)


def _parse_slots(path: Path, step: Any, loc: Location, sink: ProblemSink) -> SlotStep | None:
    check_keys(path, step, {"slot_was_set"}, sink, "a slot_was_set step")
    raw = step["slot_was_set"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        sink.error(value_location(path, step, "slot_was_set"), "'slot_was_set' must be a list")
        return None
    slots: list[tuple[str, Any]] = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            slots.append((item, ANY_VALUE))
        elif isinstance(item, dict):
            slots.extend((str(k), plain(v)) for k, v in item.items())
        else:
            sink.error(item_location(path, raw, index), "slot_was_set items are `slot: value`")
    return SlotStep(tuple(slots), loc)


def parse_step(path: Path, step: Any, loc: Location, sink: ProblemSink) -> Step | None:
    """Parse one item of `steps:` / `condition:`."""
    if not isinstance(step, dict):
        sink.error(loc, "a step must be a mapping with one of: " + ", ".join(_STEP_KINDS))
        return None
    if "intent" in step or "user" in step:
        return _parse_user(path, step, loc, sink)
    if "action" in step or "bot" in step:
        check_keys(path, step, {"action", "bot", "metadata"}, sink, "an action step")
        key = "action" if "action" in step else "bot"
        if not expect(path, step, key, str, sink, "a step"):
            return None
        if key == "action":
            return ActionStep(action=str(step["action"]), location=loc)
        return ActionStep(bot_text=str(step["bot"]), location=loc)
    if "slot_was_set" in step:
        return _parse_slots(path, step, loc, sink)
    if "active_loop" in step:
        check_keys(path, step, {"active_loop"}, sink, "an active_loop step")
        name = step["active_loop"]
        if name is not None and not expect(path, step, "active_loop", str, sink, "a step"):
            return None
        return ActiveLoopStep(name, loc)
    if "checkpoint" in step:
        check_keys(path, step, {"checkpoint"}, sink, "a checkpoint step")
        return CheckpointStep(str(step["checkpoint"]), loc)
    if "or" in step:
        check_keys(path, step, {"or"}, sink, "an or step")
        alternatives_node = step["or"]
        if not isinstance(alternatives_node, list) or not alternatives_node:
            sink.error(value_location(path, step, "or"), "'or' must be a list of steps")
            return None
        alternatives: list[UserStep | SlotStep] = []
        for index, alt in enumerate(alternatives_node):
            parsed = parse_step(path, alt, item_location(path, alternatives_node, index), sink)
            if isinstance(parsed, UserStep | SlotStep):
                alternatives.append(parsed)
            elif parsed is not None:
                sink.error(
                    item_location(path, alternatives_node, index),
                    "'or' holds only user or slot steps",
                )
        return OrStep(tuple(alternatives), loc)
    first = next(iter(step), None)
    sink.error(
        key_location(path, step, first) if first is not None else loc,
        f"unknown step '{first}' (expected one of: {', '.join(_STEP_KINDS)})",
    )
    return None


def _parse_steps(
    path: Path, node: Any, key: str, sink: ProblemSink, where: str
) -> tuple[Step, ...]:
    steps_node = node.get(key)
    if steps_node is None:
        return ()
    if not isinstance(steps_node, list):
        sink.error(value_location(path, node, key), f"'{key}' of {where} must be a list of steps")
        return ()
    steps = [
        parse_step(path, s, item_location(path, steps_node, i), sink)
        for i, s in enumerate(steps_node)
    ]
    return tuple(s for s in steps if s is not None)


def parse_stories_section(path: Path, section: Any, sink: ProblemSink) -> list[Story]:
    """Parse the list under `stories:`."""
    if not isinstance(section, list):
        sink.error(node_location(path, section), "'stories' must be a list")
        return []
    stories: list[Story] = []
    for index, node in enumerate(section):
        loc = item_location(path, section, index)
        if not isinstance(node, dict) or "story" not in node:
            sink.error(loc, "each story must be a mapping with 'story' and 'steps'")
            continue
        where = f"story '{node['story']}'"
        check_keys(path, node, {"story", "steps", "metadata"}, sink, where)
        if "steps" not in node:
            sink.error(loc, f"{where} has no 'steps'")
            continue
        stories.append(
            Story(str(node["story"]), _parse_steps(path, node, "steps", sink, where), loc)
        )
    return stories


def parse_rules_section(path: Path, section: Any, sink: ProblemSink) -> list[Rule]:
    """Parse the list under `rules:`."""
    if not isinstance(section, list):
        sink.error(node_location(path, section), "'rules' must be a list")
        return []
    rules: list[Rule] = []
    for index, node in enumerate(section):
        loc = item_location(path, section, index)
        if not isinstance(node, dict) or "rule" not in node:
            sink.error(loc, "each rule must be a mapping with 'rule' and 'steps'")
            continue
        where = f"rule '{node['rule']}'"
        check_keys(
            path,
            node,
            {"rule", "steps", "condition", "conversation_start", "wait_for_user_input", "metadata"},
            sink,
            where,
        )
        if "steps" not in node:
            sink.error(loc, f"{where} has no 'steps'")
            continue
        for flag in ("conversation_start", "wait_for_user_input"):
            if flag in node:
                expect(path, node, flag, bool, sink, where)
        rules.append(
            Rule(
                str(node["rule"]),
                _parse_steps(path, node, "steps", sink, where),
                _parse_steps(path, node, "condition", sink, where),
                node.get("conversation_start") is True,
                node.get("wait_for_user_input", True) is not False,
                loc,
            )
        )
    return rules
