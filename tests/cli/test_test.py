from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.main import app
from tests.testing.conftest import (  # noqa: F401  (trip_project: a session fixture)
    GREET_AND_LEAVE,
    trip_project,
    write_project,
)

runner = CliRunner()

PASSING = "stories:\n" + GREET_AND_LEAVE
FAILING = """
stories:
- story: rude bot
  steps:
  - intent: greet
  - action: utter_goodbye
"""


def test_passing_stories_exit_zero_and_end_with_the_count(
    trip_project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_project(tmp_path / "tests", {"stories.yml": PASSING})
    monkeypatch.chdir(trip_project)
    result = runner.invoke(
        app, ["test", "--stories", str(tmp_path / "tests"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "PASSED greet and leave" in result.output
    assert result.output.splitlines()[-1] == "1 passed, 0 failed"
    failed = (tmp_path / "out" / "failed_test_stories.yml").read_text("utf-8")
    assert failed.startswith("# None of the test stories failed")


def test_failing_story_exits_non_zero_and_says_what_was_predicted(
    trip_project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_project(tmp_path / "tests", {"a.yml": PASSING, "b.yml": FAILING})
    monkeypatch.chdir(tmp_path)
    model = next((trip_project / "models").glob("*.tar.gz"))
    result = runner.invoke(app, ["test", "--model", str(model)])
    assert result.exit_code == 1, result.output
    assert "FAILED rude bot" in result.output
    assert "expected utter_goodbye, got utter_greet" in result.output
    assert result.output.splitlines()[-1] == "1 passed, 1 failed"
    report = json.loads((tmp_path / "results" / "story_report.json").read_text("utf-8"))
    assert [s["passed"] for s in report["stories"]] == [True, False]
    failed = (tmp_path / "results" / "failed_test_stories.yml").read_text("utf-8")
    assert "- action: utter_goodbye  # predicted: utter_greet" in failed


def test_without_a_model_it_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path / "tests", {"stories.yml": PASSING})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["test"])
    assert result.exit_code == 1
    assert "no model in models; train one with `parley train`" in result.output
