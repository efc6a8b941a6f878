"""One engine path: a test story replayed and the same story run live give the same predictions.

The replay (`parley test`) drives the processor's own turn loop (session, slot extraction, the
predict loop, loop interruptions) and only takes the actions' events from the story; the live
run (`parley test --live`) runs every action for real, here in-process (parley.sdk).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.action_runners.inprocess import InProcessActionRunner
from parley.agent import Agent
from parley.project import load_project, load_stories
from parley.sdk import Action, ActionExecutor, CollectingDispatcher, FormValidationAction, Tracker
from parley.testing import StoryResult, run_stories, run_stories_live
from parley.training import train_project
from tests.testing.conftest import FILES, write_project

QUOTE_RULE = """
- rule: submit the form
  condition:
  - active_loop: trip_form
  steps:
  - action: trip_form
  - active_loop: null
  - action: utter_booked
  - action: action_quote
"""
STORY = """
stories:
- story: a question inside the form, then the booking and its quote
  steps:
  - user: book a trip
    intent: book
  - action: trip_form
  - active_loop: trip_form
  - slot_was_set:
    - requested_slot: city
  - user: are you a bot?
    intent: bot_challenge
  - action: utter_iamabot
  - action: trip_form
  - slot_was_set:
    - requested_slot: city
  - user: to [Rome](city)
    intent: inform
  - action: trip_form
  - slot_was_set:
    - city: Rome
    - requested_slot: null
  - active_loop: null
  - action: utter_booked
  - action: action_quote
  - user: bye bye
    intent: goodbye
  - action: utter_goodbye
"""


class ValidateTripForm(FormValidationAction):
    def name(self) -> str:
        return "validate_trip_form"

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        return {"city": str(value).title()}


class Quote(Action):
    def name(self) -> str:
        return "action_quote"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text=f"A trip to {tracker.get_slot('city')} costs 100.")
        return []


@pytest.fixture(scope="module")
def quote_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = dict(FILES)
    files["domain.yml"] += "actions: [validate_trip_form, action_quote]\n"
    rules = files["data/rules.yml"]
    files["data/rules.yml"] = rules[: rules.index("- rule: submit the form")] + QUOTE_RULE
    root = write_project(tmp_path_factory.mktemp("quote"), files)
    train_project(load_project(root), root / "models")
    write_project(root, {"tests/story.yml": STORY})
    return root


def _predictions(result: StoryResult) -> list[tuple[str | None, str | None]]:
    return [(o.expected, o.predicted) for o in result.outcomes if o.kind == "action" and o.expected]


async def test_replayed_and_live_story_give_the_same_predictions(quote_project: Path) -> None:
    model = next((quote_project / "models").glob("*.tar.gz"))
    stories = load_stories([quote_project / "tests"])
    [replayed] = await run_stories(Agent.load(model), stories)
    executor = ActionExecutor()
    executor.register_action(ValidateTripForm)
    executor.register_action(Quote)
    live_agent = Agent.load(model, action_runner=InProcessActionRunner(executor))
    [live] = await run_stories_live(live_agent, stories)
    assert replayed.passed, replayed.failures()
    assert live.passed, live.failures()
    assert _predictions(replayed) == _predictions(live)
    assert ("action_quote", "action_quote") in _predictions(live)
