"""Each policy on small real projects; the ensemble's choice as Rasa makes it."""

from __future__ import annotations

from pathlib import Path

from parley.dialogue.events import ActionExecuted, Event, UserUttered
from parley.dialogue.policies import (
    AugmentedMemoizationPolicy,
    MemoizationPolicy,
    PolicyEnsemble,
    PolicyPrediction,
    RulePolicy,
    TEDPolicy,
    TrainingData,
)
from parley.dialogue.slots import slot_defaults
from parley.dialogue.state import tracker_states
from parley.dialogue.tracker import Tracker
from parley.dialogue.training_data import training_stories
from parley.project import Project, load_project
from tests.dialogue.conftest import AgentFactory, texts, write_project

DOMAIN = """
intents: [greet, goodbye, ask_price, affirm, deny, chitchat]
entities: [product]
slots:
  vip:
    type: bool
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: "hi"}]
  utter_welcome_back: [{text: "welcome back"}]
  utter_goodbye: [{text: "bye"}]
  utter_price: [{text: "10 euros"}]
  utter_vip_price: [{text: "8 euros"}]
  utter_anything_else: [{text: "anything else?"}]
  utter_ok: [{text: "ok"}]
  utter_chitchat: [{text: "nice"}]
"""
RULES = """
rules:
- rule: greet at the start
  conversation_start: true
  steps:
  - intent: greet
  - action: utter_greet
- rule: greet later
  steps:
  - intent: greet
  - action: utter_welcome_back
- rule: vip price
  condition:
  - slot_was_set: [{vip: true}]
  steps:
  - intent: ask_price
  - action: utter_vip_price
- rule: price then ask more, without waiting
  steps:
  - intent: ask_price
  - action: utter_price
  wait_for_user_input: false
"""
STORIES = """
stories:
- story: price then affirm
  steps:
  - intent: ask_price
  - action: utter_price
  - action: utter_anything_else
  - intent: affirm
  - action: utter_ok
- story: price then deny
  steps:
  - intent: ask_price
  - action: utter_price
  - action: utter_anything_else
  - intent: deny
  - action: utter_goodbye
- story: chitchat then goodbye
  steps:
  - intent: chitchat
  - action: utter_chitchat
  - intent: goodbye
  - action: utter_goodbye
"""


def _project(tmp_path: Path, config: str = "") -> Project:
    files = {
        "domain.yml": DOMAIN,
        "data/rules.yml": RULES,
        "data/stories.yml": STORIES,
        "config.yml": config,
    }
    return load_project(write_project(tmp_path / "shop", files))


def _conversation(project: Project, steps: list[str]) -> Tracker:
    """`intent` strings are user turns, `utter_*`/`action_*` are actions."""
    tracker = Tracker("t", slot_defaults(project.domain))
    events: list[Event] = [ActionExecuted(name="action_listen")]
    for step in steps:
        if step.startswith(("utter_", "action_")):
            events.append(ActionExecuted(name=step))
        else:
            events.append(
                UserUttered(text=step, parse_data={"intent": {"name": step, "confidence": 1.0}})
            )
    tracker.update_all(events)
    return tracker


def _predict(policy: object, project: Project, tracker: Tracker) -> str | None:
    prediction = policy.predict(tracker, tracker_states(tracker, project.domain), project.domain)  # type: ignore[attr-defined]
    return prediction.action if prediction is not None else None


def _trained(policy_cls: type, project: Project, **options: object) -> object:
    policy = policy_cls(dict(options))
    policy.train(TrainingData(training_stories(project.stories), project.rules, project.domain))
    return policy


def test_rule_policy_conversation_start_and_conditions(tmp_path: Path) -> None:
    project = _project(tmp_path)
    rules = _trained(RulePolicy, project)
    assert _predict(rules, project, _conversation(project, ["greet"])) == "utter_greet"
    later = _conversation(project, ["chitchat", "utter_chitchat", "action_listen", "greet"])
    assert _predict(rules, project, later) == "utter_welcome_back"
    assert _predict(rules, project, _conversation(project, ["ask_price"])) == "utter_price"


def test_rule_with_slot_condition_wins_over_a_shorter_rule(tmp_path: Path) -> None:
    from parley.dialogue.events import SlotSet

    project = _project(tmp_path)
    rules = _trained(RulePolicy, project)
    tracker = Tracker("t", slot_defaults(project.domain))
    tracker.update_all(
        [
            SlotSet(name="vip", value=True),
            ActionExecuted(name="action_listen"),
            UserUttered(text="?", parse_data={"intent": {"name": "ask_price", "confidence": 1.0}}),
        ]
    )
    assert _predict(rules, project, tracker) == "utter_vip_price"


def test_rule_ends_with_listen_unless_told_not_to_wait(tmp_path: Path) -> None:
    project = _project(tmp_path)
    rules = _trained(RulePolicy, project)
    greeted = _conversation(project, ["greet", "utter_greet"])
    assert _predict(rules, project, greeted) == "action_listen"
    priced = _conversation(project, ["ask_price", "utter_price"])
    prediction = rules.predict(priced, [], project.domain)  # type: ignore[attr-defined]
    assert prediction.action == "action_default_fallback"  # no rule: the fallback, at 0.3
    assert prediction.confidence == 0.3


def test_memoization_recalls_stories_within_max_history(tmp_path: Path) -> None:
    project = _project(tmp_path)
    memo = _trained(MemoizationPolicy, project, max_history=3)
    story = ["ask_price", "utter_price", "utter_anything_else", "action_listen", "deny"]
    assert _predict(memo, project, _conversation(project, story)) == "utter_goodbye"
    story[-1] = "affirm"
    assert _predict(memo, project, _conversation(project, story)) == "utter_ok"
    unseen = _conversation(project, ["greet", "utter_greet", "action_listen", "deny"])
    assert _predict(memo, project, unseen) is None


def test_augmented_memoization_recalls_after_a_different_beginning(tmp_path: Path) -> None:
    project = _project(tmp_path)
    steps = ["greet", "utter_greet", "action_listen", "chitchat", "utter_chitchat"]
    steps += ["action_listen", "goodbye"]
    plain = _trained(MemoizationPolicy, project, max_history=5)
    augmented = _trained(AugmentedMemoizationPolicy, project, max_history=5)
    assert _predict(plain, project, _conversation(project, steps)) is None
    assert _predict(augmented, project, _conversation(project, steps)) == "utter_goodbye"


def test_ted_generalises_to_an_unseen_path(tmp_path: Path) -> None:
    project = _project(tmp_path)
    ted = _trained(TEDPolicy, project, max_history=5)
    # never seen: the price question after small talk
    steps = ["chitchat", "utter_chitchat", "action_listen", "ask_price"]
    assert _predict(ted, project, _conversation(project, steps)) == "utter_price"
    steps += ["utter_price"]
    assert _predict(ted, project, _conversation(project, steps)) == "utter_anything_else"


def test_persisted_policies_predict_the_same(tmp_path: Path) -> None:
    project = _project(tmp_path)
    ensemble = PolicyEnsemble(
        [RulePolicy({}), AugmentedMemoizationPolicy({"max_history": 4}), TEDPolicy({})]
    )
    ensemble.train(TrainingData(training_stories(project.stories), project.rules, project.domain))
    ensemble.persist(tmp_path / "policies")
    loaded = PolicyEnsemble.load(tmp_path / "policies")
    for steps in (["greet"], ["ask_price", "utter_price"], ["chitchat", "utter_chitchat"]):
        tracker = _conversation(project, steps)
        before = ensemble.predict(tracker, project.domain)
        after = loaded.predict(tracker, project.domain)
        assert (before.action, before.policy_name) == (after.action, after.policy_name)
        assert abs(before.confidence - after.confidence) < 1e-9


async def test_ensemble_prefers_rules_and_falls_back_below_threshold(
    make_agent: AgentFactory, tmp_path: Path
) -> None:
    config = """
policies:
- name: RulePolicy
  core_fallback_threshold: 0.99
- name: TEDPolicy
"""
    files = {"domain.yml": DOMAIN, "data/rules.yml": RULES, "data/stories.yml": STORIES}
    agent = make_agent({**files, "config.yml": config})
    assert texts(await agent.handle_message("a", "/greet")) == ["hi"]
    # no rule for chitchat; TED is below the 0.99 threshold: the fallback answers
    assert texts(await agent.handle_message("a", "/chitchat")) == [
        "Sorry, I didn't get that. Could you rephrase?"
    ]
    tracker = await agent.get_tracker("a")
    fallback = [e for e in tracker.events if isinstance(e, ActionExecuted)][-2]
    assert (fallback.name, fallback.policy) == ("action_default_fallback", "RulePolicy")


def test_rule_index_finds_every_rule_a_full_scan_finds() -> None:
    from parley.dialogue.policies.rule import RuleIndex, sample_matches
    from parley.dialogue.state import states_and_actions
    from tests.conftest import EXAMPLES

    for name in ("helpdesk", "moodbot"):
        project = load_project(EXAMPLES / name)
        domain = project.domain
        rules = _trained(RulePolicy, project)
        samples = rules.samples  # type: ignore[attr-defined]
        index = RuleIndex.build(samples)
        checked = 0
        for _, events in training_stories([*project.stories, *project.rules]):
            states, _ = states_and_actions(events, domain, all_slots=True)
            for end in range(1, len(states) + 1):
                window = states[:end]
                scanned = [s for s in samples if sample_matches(s, window, domain)]
                indexed = [s for s in index.candidates(window) if sample_matches(s, window, domain)]
                assert indexed == scanned
                checked += bool(scanned)
        assert checked >= 5  # the walk did reach states where rules apply


class _Fixed:
    """A policy that always predicts the same, and counts how often it is asked."""

    def __init__(self, name: str, priority: int, probabilities: dict[str, float]) -> None:
        self.name, self.priority, self.probabilities = name, priority, probabilities
        self.asked = 0

    def predict(self, tracker: Tracker, states: object, domain: object) -> PolicyPrediction:
        self.asked += 1
        return PolicyPrediction(self.probabilities, self.name, self.priority)


def test_a_certain_prediction_is_not_second_guessed_by_lower_priorities(tmp_path: Path) -> None:
    project = _project(tmp_path)
    tracker = _conversation(project, ["greet"])
    ml = _Fixed("ml", 1, {"utter_price": 1.0})
    memo = _Fixed("memo", 3, {"utter_greet": 1.0})
    rule = _Fixed("rule", 6, {"utter_other": 0.4})
    # config order is not priority order: memo (3) wins, certain, so ml (1) is never asked
    winner = PolicyEnsemble([ml, memo, rule]).predict(tracker, project.domain)  # type: ignore[list-item]
    assert (winner.policy_name, winner.action) == ("memo", "utter_greet")
    assert (rule.asked, memo.asked, ml.asked) == (1, 1, 0)
    # an uncertain one is: a lower priority may be more confident
    unsure = _Fixed("memo", 3, {"utter_greet": 0.9})
    winner = PolicyEnsemble([ml, unsure]).predict(tracker, project.domain)  # type: ignore[list-item]
    assert (winner.policy_name, ml.asked) == ("ml", 1)
    # equal priority and confidence: the first configured keeps winning, the other is skipped
    first, second = _Fixed("a", 3, {"x": 1.0}), _Fixed("b", 3, {"y": 1.0})
    winner = PolicyEnsemble([first, second]).predict(tracker, project.domain)  # type: ignore[list-item]
    assert (winner.policy_name, second.asked) == ("a", 0)
