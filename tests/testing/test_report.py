from __future__ import annotations

import json
from pathlib import Path

from parley.agent import Agent
from parley.project import load_stories
from parley.testing import run_stories, write_results
from parley.testing.report import NO_FAILURES, annotate
from tests.testing.conftest import write_project

STORIES = """
stories:
- story: passes
  steps:
  - intent: greet
  - action: utter_greet
- story: fails twice
  steps:
  - intent: greet
  - action: utter_greet
  - user: hello there
    intent: goodbye
  - action: utter_goodbye
  - user: book a trip
    intent: book
  - action: trip_form
  - active_loop: trip_form
  - user: to [Rome](city)
    intent: inform
  - action: trip_form
  - slot_was_set:
    - city: Rome
  - active_loop: null
  - action: utter_goodbye
"""


async def test_failed_stories_are_written_back_with_what_the_model_predicted(
    trip_agent: Agent, tmp_path: Path
) -> None:
    stories = load_stories([write_project(tmp_path, {"tests.yml": STORIES}) / "tests.yml"])
    results = await run_stories(trip_agent, stories)
    files = write_results(results, tmp_path / "results")
    text = files["failed_stories"].read_text("utf-8")
    source = tmp_path / "tests.yml"
    assert text.splitlines() == [
        'version: "3.1"',
        "stories:",
        f"  - story: fails twice ({source})",
        "    steps:",
        "      - intent: greet",
        "      - action: utter_greet",
        "      - intent: goodbye  # predicted: greet: hello there",
        "        user: |-",
        "          hello there",
        "      - action: utter_goodbye",
        "      - intent: book",
        "        user: |-",
        "          book a trip",
        "      - action: trip_form",
        "      - active_loop: trip_form",
        "      - intent: inform",
        "        user: |-",
        "          to [Rome](city)",
        "      - action: trip_form",
        "      - slot_was_set:",
        "          - city: Rome",
        "      - active_loop: null",
        "      - action: utter_goodbye  # predicted: utter_booked",
    ]
    # the file is a story file again: fix the story and test it
    [written] = load_stories([files["failed_stories"]])
    assert written.name == f"fails twice ({source})"


async def test_report_has_action_metrics_and_each_story_outcome(
    trip_agent: Agent, tmp_path: Path
) -> None:
    stories = load_stories([write_project(tmp_path, {"tests.yml": STORIES}) / "tests.yml"])
    files = write_results(await run_stories(trip_agent, stories), tmp_path / "results")
    report = json.loads(files["report"].read_text("utf-8"))
    assert report["utter_booked"]["support"] == 0
    assert report["utter_goodbye"]["support"] == 2  # both expected, one predicted
    assert report["utter_goodbye"]["recall"] == 0.5
    assert report["action_listen"]["f1-score"] == 1.0
    assert 0 < report["accuracy"] < 1
    assert report["stories"] == [
        {"story": "passes", "source": str(tmp_path / "tests.yml"), "passed": True, "failures": []},
        {
            "story": "fails twice",
            "source": str(tmp_path / "tests.yml"),
            "passed": False,
            "failures": [
                {"kind": "user", "expected": "goodbye", "predicted": "greet"},
                {"kind": "action", "expected": "utter_goodbye", "predicted": "utter_booked"},
            ],
        },
    ]


async def test_no_failures_says_so(trip_agent: Agent, tmp_path: Path) -> None:
    stories = load_stories([write_project(tmp_path, {"tests.yml": STORIES}) / "tests.yml"])
    results = await run_stories(trip_agent, stories[:1])
    files = write_results(results, tmp_path / "results")
    assert files["failed_stories"].read_text("utf-8") == NO_FAILURES


def test_entities_are_written_inline_with_their_values() -> None:
    entities = [
        {"start": 10, "end": 13, "entity": "city", "value": "New York"},
        {"start": 0, "end": 3, "entity": "who", "value": "Ann"},
    ]
    assert annotate("Ann to NY NYC", entities) == (
        '[Ann](who) to NY [NYC]{"entity": "city", "value": "New York"}'
    )
