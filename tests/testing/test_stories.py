from __future__ import annotations

import pytest

from parley.agent import Agent
from parley.dialogue.model import DialogueModel
from parley.project import load_project
from parley.project.stories import ActionStep, Story, UserStep
from parley.testing.stories import replay_stories
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("example", ["moodbot", "helpdesk", "e2ebot"])
async def test_example_test_stories_pass_when_replayed(example: str) -> None:
    project = load_project(EXAMPLES / example)
    agent = Agent(DialogueModel.train(project))
    results = await replay_stories(agent, project.test_stories, check_nlu=False)
    assert results and [r.name for r in results if not r.passed] == []


async def test_a_wrong_story_reports_where_and_what() -> None:
    project = load_project(EXAMPLES / "moodbot")
    agent = Agent(DialogueModel.train(project))
    story = Story(
        "wrong",
        (
            UserStep("greet"),
            ActionStep("utter_greet"),
            UserStep("mood_great"),
            ActionStep("utter_goodbye"),
        ),
    )
    [result] = await replay_stories(agent, [story], check_nlu=False)
    assert not result.passed
    [mismatch] = result.mismatches
    assert (mismatch.kind, mismatch.expected, mismatch.predicted) == (
        "action",
        "utter_goodbye",
        "utter_happy",
    )
