"""Acceptance: the example assistants and the `parley init` starter pass their own test stories.

Each project trains with its own config.yml, unchanged; `parley test` replays its tests/ end to
end (NLU included) and every story must pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.main import app
from tests.conftest import EXAMPLES
from tests.integration.conftest import TrainedModel

runner = CliRunner()


def _parley_test(project: Path, model: Path, out: Path, *flags: str) -> tuple[int, list[str]]:
    stories, where = str(project / "tests"), str(out)
    args = ["test", "--stories", stories, "--model", str(model), "--out", where, *flags]
    result = runner.invoke(app, args)
    return result.exit_code, result.output.splitlines()


@pytest.mark.parametrize(("example", "stories"), [("moodbot", 7), ("e2ebot", 4), ("helpdesk", 12)])
def test_example_passes_all_its_test_stories(
    example: str, stories: int, trained_model: TrainedModel, tmp_path: Path
) -> None:
    project = EXAMPLES / example
    code, lines = _parley_test(project, trained_model(project), tmp_path)
    assert lines[-1] == f"{stories} passed, 0 failed", "\n".join(lines)
    assert code == 0
    report = json.loads((tmp_path / "story_report.json").read_text("utf-8"))
    assert report["accuracy"] == 1.0
    assert all(story["passed"] for story in report["stories"])


def test_starter_assistant_passes_its_own_tests(
    trained_model: TrainedModel, tmp_path: Path
) -> None:
    project = tmp_path / "desk"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    code, lines = _parley_test(project, trained_model(project), tmp_path / "results")
    assert code == 0, "\n".join(lines)
    assert lines[-1] == "8 passed, 0 failed"
    # live: its custom actions (parley.sdk, actions/actions.py) run in-process
    live = ("--live", "--project", str(project))
    code, lines = _parley_test(project, trained_model(project), tmp_path / "live", *live)
    assert code == 0, "\n".join(lines)
    assert lines[-1] == "8 passed, 0 failed"
