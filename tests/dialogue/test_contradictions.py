from __future__ import annotations

from pathlib import Path

from parley.validation import validate_project
from tests.dialogue.conftest import write_project

DOMAIN = """
intents: [greet, bye]
responses:
  utter_greet: [{text: hi}]
  utter_hello: [{text: hello}]
  utter_bye: [{text: bye}]
  utter_ciao: [{text: ciao}]
"""


def _errors(root: Path) -> list[str]:
    return [str(p) for p in validate_project(root) if p.severity == "error"]


def test_contradicting_stories_and_rules_are_reported_with_their_place(tmp_path: Path) -> None:
    stories = """
stories:
- story: polite
  steps: [{intent: greet}, {action: utter_greet}]
- story: casual
  steps: [{intent: greet}, {action: utter_hello}]
- story: leaving
  steps: [{intent: bye}, {action: utter_ciao}]
"""
    rules = """
rules:
- rule: bye
  steps: [{intent: bye}, {action: utter_bye}]
- rule: bye again
  steps: [{intent: bye}, {action: utter_ciao}]
"""
    files = {"domain.yml": DOMAIN, "data/stories.yml": stories, "data/rules.yml": rules}
    errors = _errors(write_project(tmp_path / "p", files))
    assert any(
        "stories.yml:5:3: error: story 'casual' runs 'utter_hello' where story 'polite' runs "
        "'utter_greet' after the same turns (intent greet)" in e
        for e in errors
    ), errors
    assert any(
        "rule 'bye again' predicts 'utter_ciao' where rule 'bye' predicts" in e for e in errors
    )
    assert any(
        "story 'leaving' runs 'utter_ciao' where rule 'bye' predicts 'utter_bye'" in e
        for e in errors
    )


def test_consistent_project_has_no_contradictions(tmp_path: Path) -> None:
    stories = """
stories:
- story: polite
  steps: [{intent: greet}, {action: utter_greet}, {intent: bye}, {action: utter_bye}]
"""
    files = {"domain.yml": DOMAIN, "data/stories.yml": stories}
    assert _errors(write_project(tmp_path / "p", files)) == []


def test_unknown_policy_is_reported_at_its_line(tmp_path: Path) -> None:
    config = "policies:\n- name: RulePolicy\n- name: FormPolicy\n"
    files = {"domain.yml": DOMAIN, "config.yml": config}
    assert any(
        e.endswith(
            "config.yml:3:3: error: unknown policy 'FormPolicy'; use one of: "
            "AugmentedMemoizationPolicy, MemoizationPolicy, RulePolicy, TEDPolicy"
        )
        for e in _errors(write_project(tmp_path / "p", files))
    )
