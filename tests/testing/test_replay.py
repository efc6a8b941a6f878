from __future__ import annotations

from pathlib import Path

import pytest

from parley.agent import Agent
from parley.dialogue.model import DialogueModel
from parley.project import load_project, load_stories
from parley.project.loader import load_rules
from parley.project.stories import ActionStep, Story, UserStep
from parley.testing import StoryResult, run_stories
from tests.conftest import EXAMPLES
from tests.testing.conftest import GREET_AND_LEAVE, write_project


async def _run(agent: Agent, folder: Path, stories: str) -> list[StoryResult]:
    path = write_project(folder, {"tests.yml": "stories:\n" + stories}) / "tests.yml"
    return await run_stories(agent, load_stories([path]))


def _failures(result: StoryResult) -> list[tuple[str, str | None, str | None]]:
    return [(o.kind, o.expected, o.predicted) for o in result.failures()]


async def test_story_the_model_knows_passes_with_nlu_and_listens(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(trip_agent, tmp_path, GREET_AND_LEAVE)
    assert result.passed, _failures(result)
    kinds = [(o.kind, o.expected) for o in result.outcomes if o.kind in ("action", "user")]
    assert kinds == [
        ("action", None),  # the first event is taken as given, as Rasa does
        ("user", "greet"),
        ("action", "utter_greet"),
        ("action", "action_listen"),
        ("user", "goodbye"),
        ("action", "utter_goodbye"),
        ("action", "action_listen"),
    ]


async def test_wrong_action_is_reported_and_the_story_goes_on(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(
        trip_agent,
        tmp_path,
        """
- story: greeting answered with goodbye
  steps:
  - intent: greet
  - action: utter_goodbye
  - intent: bot_challenge
  - action: utter_iamabot
""",
    )
    assert not result.passed
    # the story's own action is applied, so the rest is judged on the story's path
    assert _failures(result) == [("action", "utter_goodbye", "utter_greet")]


async def test_wrong_intent_and_missed_entity_are_reported(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(
        trip_agent,
        tmp_path,
        """
- story: labels that the NLU does not agree with
  steps:
  - user: hello there
    intent: goodbye
  - action: utter_goodbye
  - user: I want to go to [Oslo](city)
    intent: inform
""",
    )
    wrong = [o for o in result.failures() if o.kind == "user"]
    assert [(o.expected, o.predicted) for o in wrong] == [("goodbye", "greet")]
    entities = [o for o in result.outcomes if o.kind == "user"][1]
    assert entities.expected_entities == (
        {"start": 16, "end": 20, "entity": "city", "value": "Oslo"},
    )
    assert entities.correct, entities.predicted_entities


async def test_step_with_only_an_intent_is_taken_as_given(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(
        trip_agent,
        tmp_path,
        """
- story: intent without text
  steps:
  - intent: bot_challenge
  - action: utter_iamabot
""",
    )
    assert result.passed
    user = next(o for o in result.outcomes if o.kind == "user")
    assert (user.expected, user.predicted) == ("bot_challenge", "bot_challenge")


async def test_active_form_is_taken_as_rejected_when_the_story_does_something_else(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(
        trip_agent,
        tmp_path,
        """
- story: question in the middle of the form
  steps:
  - user: book a trip
    intent: book
  - action: trip_form
  - active_loop: trip_form
  - user: are you a bot?
    intent: bot_challenge
  - action: utter_iamabot
  - action: trip_form
  - user: to [Paris](city)
    intent: inform
  - action: trip_form
  - active_loop: null
  - action: utter_booked
""",
    )
    assert result.passed, _failures(result)
    iamabot = next(o for o in result.outcomes if o.expected == "utter_iamabot")
    assert iamabot.policy == "RulePolicy"


@pytest.mark.parametrize("example", ["moodbot", "helpdesk", "e2ebot"])
async def test_example_test_stories_pass_the_dialogue_model(example: str) -> None:
    # dialogue only (no NLU in the model): the stories' intents are taken as given
    project = load_project(EXAMPLES / example)
    agent = Agent(DialogueModel.train(project))
    results = await run_stories(agent, project.test_stories)
    assert results and [r.case.name for r in results if not r.passed] == []


async def test_a_dialogue_only_model_reports_the_wrong_action() -> None:
    agent = Agent(DialogueModel.train(load_project(EXAMPLES / "moodbot")))
    story = Story(
        "wrong",
        (
            UserStep("greet", "hello"),
            ActionStep("utter_greet"),
            UserStep("mood_great"),
            ActionStep("utter_goodbye"),
        ),
    )
    [result] = await run_stories(agent, [story])
    assert _failures(result) == [("action", "utter_goodbye", "utter_happy")]


async def test_text_only_step_goes_on_with_what_the_nlu_understood(
    trip_agent: Agent, tmp_path: Path
) -> None:
    [result] = await _run(
        trip_agent,
        tmp_path,
        """
- story: end-to-end test story without intents
  steps:
  - user: hello there
  - action: utter_greet
  - user: are you a bot?
  - action: utter_iamabot
""",
    )
    assert result.passed, _failures(result)
    users = [o for o in result.outcomes if o.kind == "user"]
    assert [(o.expected, o.predicted) for o in users] == [(None, None), (None, None)]
    # the bot challenge rule fired on the NLU's intent: the tracker got what NLU understood
    iamabot = next(o for o in result.outcomes if o.expected == "utter_iamabot")
    assert iamabot.policy == "RulePolicy"


async def test_training_rules_replay_as_tests_from_their_condition(
    trip_agent: Agent, trip_project: Path
) -> None:
    # `rasa test core --stories data/` skips rules; Parley replays them from their condition
    project = load_project(trip_project)
    results = await run_stories(trip_agent, [], project.rules)
    assert [r.case.name for r in results] == [r.name for r in project.rules]
    assert [r.case.name for r in results if not r.passed] == []
    submit = next(r for r in results if r.case.name == "submit the form")
    judged = [(o.expected, o.predicted) for o in submit.outcomes if o.expected]
    assert judged == [
        ("trip_form", "trip_form"),  # the condition's loop is active: the form runs
        ("utter_booked", "utter_booked"),
        ("action_listen", "action_listen"),
    ]


async def test_a_rule_that_does_not_wait_ends_without_listening(
    trip_agent: Agent, tmp_path: Path
) -> None:
    rules = write_project(
        tmp_path,
        {
            "r.yml": """
rules:
- rule: challenge, and the bot goes on
  steps:
  - intent: bot_challenge
  - action: utter_iamabot
  wait_for_user_input: false
"""
        },
    )
    [result] = await run_stories(trip_agent, [], load_rules([rules / "r.yml"]))
    assert [(o.expected, o.predicted) for o in result.outcomes if o.expected] == [
        ("bot_challenge", "bot_challenge"),
        ("utter_iamabot", "utter_iamabot"),
    ]
