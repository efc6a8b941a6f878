"""Cross-file checks of a project: what is used must be declared, and the reverse."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from parley.project.domain import BUILTIN_ACTIONS, BUILTIN_RESPONSES, DEFAULT_INTENTS
from parley.project.errors import Location, Problem, ProblemSink
from parley.project.loader import Project, read_project
from parley.project.stories import (
    ActionStep,
    ActiveLoopStep,
    OrStep,
    SlotStep,
    Step,
    UserStep,
)


def _flat_steps(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        if isinstance(step, OrStep):
            yield from step.alternatives
        else:
            yield step


def _all_steps(project: Project) -> Iterator[tuple[str, Step]]:
    for story in project.stories:
        for step in _flat_steps(story.steps):
            yield f"story '{story.name}'", step
    for rule in project.rules:
        for step in _flat_steps(rule.condition + rule.steps):
            yield f"rule '{rule.name}'", step
    for story in project.test_stories:
        for step in _flat_steps(story.steps):
            yield f"test story '{story.name}'", step


def _here(step: Step, fallback: Path) -> Location:
    return step.location or Location(fallback)


def _used_responses(project: Project) -> set[str]:
    used: set[str] = set(BUILTIN_RESPONSES)
    for _, step in _all_steps(project):
        if isinstance(step, ActionStep) and step.action:
            used.add(step.action)
    for form in project.domain.forms.values():
        for slot in form.required_slots:
            used.add(f"utter_ask_{slot}")
            used.add(f"utter_ask_{form.name}_{slot}")
    return used


def check_steps(project: Project, sink: ProblemSink) -> None:
    """Intents, actions, slots and forms used in stories and rules are declared."""
    domain = project.domain
    intents = set(domain.intent_names) | set(DEFAULT_INTENTS)
    actions = set(domain.user_action_names) | set(BUILTIN_ACTIONS)
    slots = set(domain.slot_names) | {"requested_slot"}
    loops = set(domain.forms) | set(domain.actions) | set(BUILTIN_ACTIONS)
    fallback = project.root / "data"
    for where, step in _all_steps(project):
        at = _here(step, fallback)
        if isinstance(step, UserStep) and step.intent is not None:
            base = step.intent.split("/", 1)[0]
            if base not in intents:
                sink.error(at, f"intent '{step.intent}' in {where} is not declared in the domain")
        elif isinstance(step, ActionStep) and step.action is not None:
            if step.action not in actions:
                if step.action.startswith("utter_"):
                    msg = f"response '{step.action}' in {where} is not defined in the domain"
                else:
                    msg = f"action '{step.action}' in {where} is not declared in the domain"
                sink.error(at, msg)
        elif isinstance(step, SlotStep):
            for name, _ in step.slots:
                if name not in slots:
                    sink.error(at, f"slot '{name}' in {where} is not declared in the domain")
        elif isinstance(step, ActiveLoopStep) and step.name is not None and step.name not in loops:
            sink.error(at, f"form '{step.name}' in {where} is not declared in the domain")


def check_domain(project: Project, sink: ProblemSink) -> None:
    """Slot mappings, forms and responses refer to things the domain has."""
    domain = project.domain
    intents = set(domain.intent_names) | set(DEFAULT_INTENTS)
    entities = set(domain.entity_names)
    slots = set(domain.slot_names) | {"requested_slot"}
    for slot in domain.slots:
        at = slot.location or Location(project.root / "domain.yml")
        for mapping in slot.mappings:
            if mapping.entity is not None and mapping.entity not in entities:
                sink.error(
                    at, f"slot '{slot.name}' maps entity '{mapping.entity}', which is not declared"
                )
            for intent in mapping.intent + mapping.not_intent:
                if intent not in intents:
                    sink.error(
                        at,
                        f"slot '{slot.name}' mapping names intent '{intent}', which is not declared",
                    )
            for condition in mapping.conditions:
                if condition.active_loop is not None and condition.active_loop not in domain.forms:
                    sink.error(
                        at,
                        f"slot '{slot.name}' mapping condition names form '{condition.active_loop}',"
                        " which is not declared",
                    )
    for form in domain.forms.values():
        at = form.location or Location(project.root / "domain.yml")
        for required in form.required_slots:
            if required not in slots:
                sink.error(
                    at, f"form '{form.name}' requires slot '{required}', which is not declared"
                )
    for name, variations in domain.responses.items():
        at = domain.response_locations.get(name, Location(project.root / "domain.yml"))
        for variation in variations:
            for response_condition in variation.conditions:
                if response_condition.name not in slots:
                    sink.error(
                        at,
                        f"response '{name}' has a condition on slot '{response_condition.name}', which is not declared",
                    )


def check_unused_responses(project: Project, sink: ProblemSink) -> None:
    used = _used_responses(project)
    for name in project.domain.responses:
        base = name.split("/", 1)[0]
        if name not in used and base not in used and name not in project.domain.actions:
            at = project.domain.response_locations.get(name, Location(project.root / "domain.yml"))
            sink.warning(at, f"response '{name}' is never used in stories or rules")


def check_nlu(project: Project, sink: ProblemSink) -> None:
    """Examples are not repeated under two intents; intents and entities are declared."""
    domain = project.domain
    seen: dict[str, str] = {}
    declared_intents = set(domain.intent_names) | set(DEFAULT_INTENTS)
    entities = {e.name: e for e in domain.entities}
    warned: set[str] = set()
    for example in project.nlu.examples:
        at = example.location or Location(project.root / "data")
        key = " ".join(example.text.lower().split())
        other = seen.setdefault(key, example.intent)
        if other != example.intent:
            sink.warning(
                at,
                f"example '{example.text}' is listed under intent '{other}' and '{example.intent}'",
            )
        if example.base_intent not in declared_intents and example.base_intent not in warned:
            warned.add(example.base_intent)
            sink.warning(
                at, f"intent '{example.base_intent}' has examples but is not in the domain"
            )
        for annotation in example.entities:
            declared = entities.get(annotation.entity)
            if declared is None:
                if annotation.entity not in warned:
                    warned.add(annotation.entity)
                    sink.warning(
                        at, f"entity '{annotation.entity}' is annotated but not in the domain"
                    )
                continue
            if annotation.role is not None and annotation.role not in declared.roles:
                sink.warning(
                    at, f"role '{annotation.role}' of entity '{annotation.entity}' is not declared"
                )
            if annotation.group is not None and annotation.group not in declared.groups:
                sink.warning(
                    at,
                    f"group '{annotation.group}' of entity '{annotation.entity}' is not declared",
                )


Check = Callable[[Project, ProblemSink], None]
"""A cross-file check: reads the project, reports each finding to the sink."""

PROJECT_CHECKS: tuple[Check, ...] = (check_steps, check_domain, check_unused_responses, check_nlu)
"""The checks that need nothing but the project files (`parley.validation` adds the others)."""


def run_checks(
    root: Path,
    checks: Sequence[Check],
    data_paths: list[Path] | None = None,
    test_paths: list[Path] | None = None,
) -> list[Problem]:
    """Every problem of a project: file errors first, then what each of `checks` finds."""
    project, problems = read_project(root, data_paths, test_paths)
    sink = ProblemSink()
    sink.problems.extend(problems)
    unreadable = any(
        p.severity == "error"
        and p.message.startswith(("YAML syntax error", "file is not valid UTF-8"))
        for p in problems
    )
    if unreadable:  # cross-file findings would only echo what the unreadable file hides
        return sink.problems
    for check in checks:
        check(project, sink)
    return sink.problems
