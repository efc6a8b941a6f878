from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from parley.cli.main import app
from parley.project import load_project
from parley.validation import validate_project

runner = CliRunner()


def test_init_creates_a_valid_helpdesk_assistant(tmp_path: Path) -> None:
    target = tmp_path / "bot"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert [str(p) for p in validate_project(target) if p.severity == "error"] == []
    project = load_project(target)
    faqs = {e.intent for e in project.nlu.examples if e.base_intent == "faq"}
    assert len(faqs) >= 10
    assert all(f"utter_{faq}" in project.domain.responses for faq in faqs)
    form = project.domain.forms["password_reset_form"]
    assert form.required_slots == ("username", "confirm_reset")
    assert "action_reset_password" in project.domain.actions
    assert (target / "actions" / "actions.py").is_file()
    assert project.test_stories, "the starter ships its own conversation tests"


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "domain.yml").exists()
