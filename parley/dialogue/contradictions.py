"""`parley data validate`: stories and rules that disagree (same history, different action)."""

from __future__ import annotations

from parley.dialogue.policies.memoization import window
from parley.dialogue.policies.rule import all_rule_samples, listen_inside_loop, sample_matches
from parley.dialogue.state import State, state_key, states_and_actions
from parley.dialogue.training_data import training_stories
from parley.project.errors import Location, ProblemSink
from parley.project.loader import Project

MAX_HISTORY = 5  # as `rasa data validate --max-history 5`


def _describe(states: list[State | None]) -> str:
    """`intent greet, utter_greet, intent bye` for the turns of a state window."""
    parts: list[str] = []
    for state in states:
        if not state:
            continue
        action = (state.get("prev_action") or {}).get("action_name")
        if action and action != "action_listen":
            parts.append(action)
        intent = (state.get("user") or {}).get("intent")
        if intent:
            parts.append(f"intent {intent}")
    return ", ".join(parts) or "the start"


def check_story_contradictions(project: Project, sink: ProblemSink) -> None:
    """Two stories, or a story and a rule, predicting different actions after the same turns."""
    fallback = Location(project.root / "data")
    where = {s.name: s.location or fallback for s in project.stories}
    where.update({r.name: r.location or fallback for r in project.rules})
    seen: dict[str, tuple[str, str]] = {}
    reported: set[tuple[str, str]] = set()
    samples = all_rule_samples(project.rules)
    domain = project.domain
    for name, events in training_stories(project.stories):
        states, actions = states_and_actions(events, domain)
        rule_states, _ = states_and_actions(events, domain, all_slots=True)
        for index, action in enumerate(actions):
            recent = window(states[: index + 1], MAX_HISTORY)
            key = state_key(recent)
            other = seen.setdefault(key, (name, action))
            pair = (other[0], name)
            if other[1] != action and pair not in reported:
                reported.add(pair)
                sink.error(
                    where[name],
                    f"story '{name}' runs '{action}' where story '{other[0]}' runs "
                    f"'{other[1]}' after the same turns ({_describe(recent)})",
                )
            history = rule_states[: index + 1]
            loop = (history[-1].get("active_loop") or {}).get("name")
            for sample in samples:
                if listen_inside_loop(sample, loop):
                    continue
                if sample.action != action and sample_matches(sample, history, domain):
                    pair = (sample.rule, name)
                    if pair not in reported:
                        reported.add(pair)
                        sink.error(
                            where[name],
                            f"story '{name}' runs '{action}' where rule '{sample.rule}' "
                            f"predicts '{sample.action}'",
                        )


def check_rule_contradictions(project: Project, sink: ProblemSink) -> None:
    """Two rules with the same steps so far but different next actions."""
    fallback = Location(project.root / "data")
    where = {r.name: r.location or fallback for r in project.rules}
    seen: dict[str, tuple[str, str]] = {}
    for sample in all_rule_samples(project.rules):
        key = state_key([*sample.history, {"start": sample.conversation_start}])
        rule, action = seen.setdefault(key, (sample.rule, sample.action))
        if action != sample.action:
            sink.error(
                where[sample.rule],
                f"rule '{sample.rule}' predicts '{sample.action}' where rule '{rule}' predicts "
                f"'{action}' after the same steps",
            )


def check_policies(project: Project, sink: ProblemSink) -> None:
    """Every policy of config.yml is one Parley knows (by its Rasa name)."""
    from parley.dialogue.policies.ensemble import IGNORED, POLICIES

    fallback = Location(project.config.path or project.root / "config.yml")
    for policy in project.config.policies:
        if policy.name in POLICIES:
            continue
        at = policy.location or fallback
        if policy.name in IGNORED:
            sink.warning(at, f"policy '{policy.name}' has no effect in Parley and is skipped")
        else:
            sink.error(
                at, f"unknown policy '{policy.name}'; use one of: {', '.join(sorted(POLICIES))}"
            )
