from __future__ import annotations

from pathlib import Path

import pytest

from parley.project import ANY_VALUE, ActiveLoopStep, OrStep, SlotStep, UserStep, load_project
from parley.validation import validate_project


@pytest.mark.parametrize("name", ["moodbot", "helpdesk", "e2ebot"])
def test_shared_examples_validate_without_errors(examples_dir: Path, name: str) -> None:
    problems = validate_project(examples_dir / name)
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_helpdesk_domain_is_read_whole(examples_dir: Path) -> None:
    project = load_project(examples_dir / "helpdesk")
    domain = project.domain
    assert "open_incident" in domain.intent_names
    assert domain.intent("open_incident").use_entities == ()  # type: ignore[union-attr]
    email = domain.slot("email")
    assert email is not None and email.type == "text"
    assert [m.type for m in email.mappings][:2] == ["from_entity", "from_intent"]
    assert email.mappings[0].conditions[0].active_loop == "open_incident_form"
    assert domain.forms["open_incident_form"].required_slots[0] == "email"
    assert domain.session_config.session_expiration_time == 0.0
    assert "action_open_incident" in domain.user_action_names


def test_rules_keep_or_steps_and_loop_conditions(examples_dir: Path) -> None:
    project = load_project(examples_dir / "helpdesk")
    start = next(r for r in project.rules if r.name == "start open incident form")
    assert isinstance(start.steps[0], OrStep)
    assert [s.intent for s in start.steps[0].alternatives if isinstance(s, UserStep)] == [
        "open_incident",
        "password_reset",
        "problem_email",
    ]
    submit = next(r for r in project.rules if r.name == "submit open incident form")
    assert submit.condition == (ActiveLoopStep("open_incident_form"),)
    assert ActiveLoopStep(None) in submit.steps


def test_test_stories_carry_user_text(examples_dir: Path) -> None:
    project = load_project(examples_dir / "helpdesk")
    first = project.test_stories[0]
    user = first.steps[0]
    assert isinstance(user, UserStep)
    assert user.intent == "bot_challenge" and user.text == "Are you a bot?"


def test_domain_folder_files_are_merged(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "a.yml").write_text(
        "intents:\n- greet\nresponses:\n  utter_greet:\n  - text: hi\n"
    )
    (tmp_path / "domain" / "sub").mkdir()
    (tmp_path / "domain" / "sub" / "b.yml").write_text(
        "intents:\n- bye\nslots:\n  name:\n    type: text\n    mappings:\n    - type: from_text\n"
    )
    project = load_project(tmp_path)
    assert project.domain.intent_names == ("greet", "bye")
    assert project.domain.slot_names == ("name",)
    assert "utter_greet" in project.domain.responses


def test_slot_was_set_without_value_means_any_value(tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text(
        "intents: [greet]\nslots:\n  name:\n    type: text\n    mappings: [{type: from_text}]\n"
        "responses:\n  utter_greet: [{text: hi}]\n"
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "s.yml").write_text(
        "stories:\n- story: s\n  steps:\n  - intent: greet\n  - slot_was_set:\n    - name\n"
        "  - action: utter_greet\n"
    )
    project = load_project(tmp_path)
    assert project.stories[0].steps[1] == SlotStep((("name", ANY_VALUE),))
