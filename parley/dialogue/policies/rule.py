"""RulePolicy: rules as partial state histories, forms' happy path, fallbacks.

A rule becomes samples `(history of partial states, action)`: each partial state holds only what
the rule mentions (prev action, intent and entities, slots, active loop). A sample applies when
the last states of the conversation contain its partial states. The longest matching history
wins. Before rules come the default actions (`/restart`, `/back`, `/session_start`) and the
active loop's happy path; when nothing applies the policy predicts the fallback action with
`core_fallback_threshold`, so confident ML predictions still win.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from parley.dialogue.policies.base import PolicyError, PolicyPrediction, TrainingData
from parley.dialogue.slots import feature_value
from parley.dialogue.state import State, tracker_states
from parley.dialogue.topics import TopicFallback, parse_topic_fallbacks, topic_action
from parley.dialogue.tracker import ACTION_LISTEN, Tracker
from parley.dialogue.training_data import ANY_SLOT_VALUE, expand_or
from parley.project.domain import Domain
from parley.project.stories import (
    ANY_VALUE,
    ActionStep,
    ActiveLoopStep,
    CheckpointStep,
    Rule,
    SlotStep,
    Step,
    UserStep,
)

DEFAULT_ACTIONS = {
    "restart": "action_restart",
    "back": "action_back",
    "session_start": "action_session_start",
}
RULES_FILE = "rules.json"


@dataclass(frozen=True)
class RuleSample:
    rule: str
    history: tuple[dict[str, Any], ...]
    action: str
    conversation_start: bool = False
    _specificity: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # asked at every prediction a rule matches: once here
        size = sum(len(json.dumps(s)) for s in self.history)
        object.__setattr__(self, "_specificity", (len(self.history), size))

    def specificity(self) -> tuple[int, int]:
        return self._specificity


def _entity_labels(step: UserStep) -> list[str]:
    labels: set[str] = set()
    for entity in step.entities:
        labels.add(entity.entity)
        if entity.role:
            labels.add(f"{entity.entity}#{entity.role}")
        if entity.group:
            labels.add(f"{entity.entity}#{entity.group}")
    return sorted(labels)


def rule_samples(rule: Rule, steps: tuple[Step, ...]) -> list[RuleSample]:
    """The predictions one (already `or`-expanded) rule makes."""
    known: dict[str, Any] = {}  # active_loop / slots the rule has fixed so far
    history: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    samples: list[RuleSample] = []
    seen_user = False
    acted = False  # the rule has had an action step

    def snapshot() -> dict[str, Any]:
        state = dict(current)
        if "active_loop" in known:
            state["active_loop"] = known["active_loop"]
        if known.get("slots"):
            state["slots"] = dict(known["slots"])
        return state

    def set_slots(step: SlotStep) -> None:
        slots = known.setdefault("slots", {})
        for name, value in step.slots:
            slots[name] = ANY_SLOT_VALUE if value is ANY_VALUE else value

    for step in rule.condition:
        if isinstance(step, SlotStep):
            set_slots(step)
        elif isinstance(step, ActiveLoopStep):
            known["active_loop"] = step.name
    for step in steps:
        if isinstance(step, UserStep):
            if current and current.get("prev_action") != ACTION_LISTEN:
                history.append(snapshot())
                samples.append(
                    RuleSample(rule.name, tuple(history), ACTION_LISTEN, rule.conversation_start)
                )
            user: dict[str, Any] = {"intent": (step.intent or "").split("/", 1)[0] or None}
            labels = _entity_labels(step)
            if labels:
                user["entities"] = labels
            current = {"prev_action": ACTION_LISTEN, "user": user}
            seen_user = True
        elif isinstance(step, ActionStep) and step.action:
            if seen_user or acted:
                samples.append(
                    RuleSample(
                        rule.name,
                        (*history, snapshot()),
                        step.action,
                        rule.conversation_start,
                    )
                )
            if seen_user or acted or rule.conversation_start:
                history.append(snapshot())
            # else: the state before a rule's first action is Rasa's snippet state (`...`),
            # which no rule key holds: the rule's condition counts from the next state on,
            # through the slots and loop it leaves in the conversation
            acted = True
            current = {"prev_action": step.action}
        elif isinstance(step, SlotStep):
            set_slots(step)
        elif isinstance(step, ActiveLoopStep):
            known["active_loop"] = step.name
        elif isinstance(step, CheckpointStep):
            continue
    if rule.wait_for_user_input and current.get("prev_action") not in (None, ACTION_LISTEN):
        samples.append(
            RuleSample(rule.name, (*history, snapshot()), ACTION_LISTEN, rule.conversation_start)
        )
    return samples


def all_rule_samples(rules: tuple[Rule, ...]) -> list[RuleSample]:
    return [
        sample
        for rule in rules
        for steps in expand_or(rule.steps)
        for sample in rule_samples(rule, steps)
    ]


def _slot_matches(domain: Domain, name: str, wanted: Any, state_slots: dict[str, Any]) -> bool:
    """Rasa's `_does_rule_match_state` for one slot of a rule. A rule's state holds only slots
    the domain featurizes (`influence_conversation`; never `requested_slot`, a text slot that
    does not influence the conversation), so a rule says nothing about any other slot."""
    slot = domain.slot(name)
    if slot is None or not slot.influence_conversation:
        return True
    if wanted is None:  # `null` in a rule: the slot must not show (unset, or featurized as 0)
        return name not in state_slots
    if wanted == ANY_SLOT_VALUE:
        return name in state_slots
    feature = feature_value(slot, wanted)
    if feature is None:  # a value that featurizes as nothing constrains nothing
        return True
    return state_slots.get(name) == feature


def _featurized_entities(domain: Domain, intent: str | None, labels: list[str]) -> set[str]:
    """The rule's entity labels the domain featurizes for `intent` (as a conversation's)."""
    influencing = {e.name for e in domain.entities if e.influence_conversation}
    intent_def = domain.intent(intent or "")
    kept: set[str] = set()
    for label in labels:
        name = label.split("#", 1)[0]
        if name not in influencing:
            continue
        if intent_def is not None and not intent_def.uses_entity(name):
            continue
        kept.add(label)
    return kept


def state_matches(partial: dict[str, Any], state: State, domain: Domain) -> bool:
    if (
        "prev_action" in partial
        and state.get("prev_action", {}).get("action_name") != partial["prev_action"]
    ):
        return False
    if "user" in partial:
        user = state.get("user") or {}
        intent = partial["user"].get("intent")
        if user.get("intent") != intent:
            return False
        wanted = _featurized_entities(domain, intent, partial["user"].get("entities", []))
        # a rule that names entities wants exactly those (Rasa compares the whole sub-state)
        if wanted and wanted != set(user.get("entities", ())):
            return False
    if "active_loop" in partial:
        loop = (state.get("active_loop") or {}).get("name")
        if loop != partial["active_loop"]:
            return False
    slots = state.get("slots") or {}
    return all(
        _slot_matches(domain, name, value, slots)
        for name, value in (partial.get("slots") or {}).items()
    )


def _window_matches(
    history: tuple[dict[str, Any], ...], states: list[State], domain: Domain, start_only: bool
) -> bool:
    size = len(history)
    if size > len(states):
        return False
    window = states[len(states) - size :]
    # index, not a slice: a long conversation's states are not copied for each rule
    if start_only and any("user" in states[i] for i in range(len(states) - size)):
        return False
    return all(state_matches(p, s, domain) for p, s in zip(history, window, strict=True))


def sample_matches(sample: RuleSample, states: list[State], domain: Domain) -> bool:
    return _window_matches(sample.history, states, domain, sample.conversation_start)


_ANY = "\x00any"  # a partial state that does not constrain this part of the state


def _last_key(sample: RuleSample) -> tuple[str | None, str | None]:
    """(prev action, intent) the conversation's last state must have for `sample` to apply."""
    last = sample.history[-1]
    action = last.get("prev_action", _ANY)
    intent = last["user"].get("intent") if "user" in last else _ANY
    return action, intent


@dataclass(frozen=True)
class RuleIndex:
    """The samples by what their last partial state requires, so a prediction only tests the
    few that can apply (every sample's last partial state must match the last state)."""

    buckets: dict[tuple[str | None, str | None], list[tuple[int, RuleSample]]]
    unconstrained: list[tuple[int, RuleSample]]

    @classmethod
    def build(cls, samples: list[RuleSample]) -> RuleIndex:
        buckets: dict[tuple[str | None, str | None], list[tuple[int, RuleSample]]] = {}
        unconstrained: list[tuple[int, RuleSample]] = []
        for position, sample in enumerate(samples):
            if not sample.history:
                unconstrained.append((position, sample))
            else:
                buckets.setdefault(_last_key(sample), []).append((position, sample))
        return cls(buckets, unconstrained)

    def candidates(self, states: list[State]) -> list[RuleSample]:
        """The samples that may match `states`, in training order (ties go to the first)."""
        last = states[-1] if states else {}
        action = last.get("prev_action", {}).get("action_name")
        intent = (last.get("user") or {}).get("intent")
        found = list(self.unconstrained)
        for key in ((action, intent), (action, _ANY), (_ANY, intent), (_ANY, _ANY)):
            found.extend(self.buckets.get(key, ()))
        found.sort(key=lambda pair: pair[0])
        return [sample for _, sample in found]


def listen_inside_loop(sample: RuleSample, loop: str | None) -> bool:
    """A rule that knows nothing of loops ends with listening; inside an active loop (a form
    interrupted by an FAQ) stories decide what follows instead, e.g. returning to the form."""
    return (
        loop is not None
        and sample.action == ACTION_LISTEN
        and not any("active_loop" in state for state in sample.history)
    )


@dataclass
class RulePolicy:
    """Rasa's RulePolicy (priority 6), plus topic-specific fallbacks (`topic_fallbacks`)."""

    options: dict[str, Any] = field(default_factory=dict)
    samples: list[RuleSample] = field(default_factory=list)
    name: str = "RulePolicy"
    priority: int = 6
    _index: RuleIndex | None = field(default=None, init=False, repr=False, compare=False)
    _indexed: list[RuleSample] | None = field(default=None, init=False, repr=False, compare=False)

    def _candidates(self, states: list[State]) -> list[RuleSample]:
        if self._index is None or self._indexed is not self.samples:
            self._index, self._indexed = RuleIndex.build(self.samples), self.samples
        return self._index.candidates(states)

    @property
    def fallback_threshold(self) -> float:
        return float(self.options.get("core_fallback_threshold", 0.3))

    @property
    def fallback_action(self) -> str:
        return str(self.options.get("core_fallback_action_name", "action_default_fallback"))

    @cached_property
    def topics(self) -> list[TopicFallback]:
        return parse_topic_fallbacks(self.options.get("topic_fallbacks"))

    def train(self, data: TrainingData) -> None:
        self.samples = all_rule_samples(data.rules)

    def _predict_action(self, tracker: Tracker, domain: Domain) -> tuple[str | None, str]:
        latest = tracker.latest_action_name
        intent = tracker.latest_intent
        if latest == ACTION_LISTEN and intent in DEFAULT_ACTIONS:
            return DEFAULT_ACTIONS[intent], "default action"
        loop = tracker.active_loop_name
        if loop and not tracker.active_loop.get("rejected"):
            if latest != loop:
                return loop, "active loop"
            return ACTION_LISTEN, "active loop"
        if tracker.latest_message is not None:
            topic = topic_action(self.topics, tracker.latest_message.parse_data)
            if topic is not None:
                return (topic if latest == ACTION_LISTEN else ACTION_LISTEN), "topic fallback"
        states = tracker_states(tracker, domain)
        matches = [s for s in self._candidates(states) if sample_matches(s, states, domain)]
        if loop and any(listen_inside_loop(s, loop) for s in matches):
            matches = [s for s in matches if not listen_inside_loop(s, loop)]
            if not matches:  # the interruption is answered: back to the form
                return loop, "active loop after interruption"
        if not matches:
            return None, ""
        best = max(matches, key=lambda s: s.specificity())
        return best.action, f"rule '{best.rule}'"

    def predict(self, tracker: Tracker, states: list[State], domain: Domain) -> PolicyPrediction:
        action, _why = self._predict_action(tracker, domain)
        if action is not None and action == tracker.rejected_action():
            action = None  # the rule's action refused to run: the fallback answers instead
        if action is not None:
            return PolicyPrediction({action: 1.0}, self.name, self.priority, is_rule=True)
        if not self.options.get("enable_fallback_prediction", True):
            return PolicyPrediction({}, self.name, self.priority)
        return PolicyPrediction(
            {self.fallback_action: self.fallback_threshold}, self.name, self.priority
        )

    def explain(self, tracker: Tracker, domain: Domain) -> str:
        """Which rule (or default) decides the next action; for debugging and the shell."""
        action, why = self._predict_action(tracker, domain)
        return f"{action} ({why})" if action else "no rule applies"

    def persist(self, folder: Path) -> None:
        payload = [
            {
                "rule": s.rule,
                "history": list(s.history),
                "action": s.action,
                "conversation_start": s.conversation_start,
            }
            for s in self.samples
        ]
        (folder / RULES_FILE).write_text(json.dumps(payload, indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path, options: dict[str, Any]) -> RulePolicy:
        path = folder / RULES_FILE
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read {path}: {exc}; retrain the model") from None
        samples = [
            RuleSample(r["rule"], tuple(r["history"]), r["action"], r["conversation_start"])
            for r in raw
        ]
        return cls(dict(options), samples)
