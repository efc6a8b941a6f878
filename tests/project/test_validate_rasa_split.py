"""`parley data validate` splits errors and warnings as `rasa data validate` (3.6) does."""

from __future__ import annotations

import shutil
from pathlib import Path

import parley.action_runners
import parley.dialogue
import parley.nlu  # noqa: F401  (their checks join `parley data validate`)
from parley.validation import validate_project
from tests.conftest import EXAMPLES


def _problems(tmp_path: Path, bot: str) -> list[str]:
    folder = tmp_path / bot
    shutil.copytree(EXAMPLES / bot, folder)
    return [str(p).replace(f"{folder}/", "") for p in validate_project(folder)]


def test_retrieval_response_named_in_a_test_story_is_only_a_warning(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "responseselectorbot")
    assert not [p for p in problems if ": error: " in p], problems
    assert any(
        p.startswith("tests/test_stories.yml:")
        and ": warning: response 'utter_chitchat/ask_name'" in p
        for p in problems
    ), problems


def test_missing_endpoints_file_is_not_a_problem_located_in_it(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "formbot")
    assert not (tmp_path / "formbot" / "endpoints.yml").exists()
    assert not [p for p in problems if p.startswith("endpoints.yml") or ":0:0:" in p], problems
    assert not [p for p in problems if ": error: " in p], problems
