from __future__ import annotations

from pathlib import Path

from parley.dialogue.story_turns import story_turns
from parley.nlu import load
from parley.nlu.part import NLUPart
from parley.nlu.story_examples import story_examples
from parley.project import NLUData, Project, load_project
from parley.project.nlu_data import NLUExample
from parley.project.stories import ActionStep, Story, UserStep
from parley.training import train_project


def _story(name: str, *steps: UserStep | ActionStep) -> Story:
    return Story(name, steps)


SUGGEST = ActionStep("utter_suggest")
ACCEPTED = ActionStep("utter_book")


def test_story_text_takes_the_intent_stories_show_at_the_same_place() -> None:
    stories = [
        _story("yes", UserStep("ask"), SUGGEST, UserStep("affirm"), ACCEPTED),
        _story("sushi", UserStep("ask"), SUGGEST, UserStep(text="sushi works for me"), ACCEPTED),
        _story("no", UserStep("ask"), SUGGEST, UserStep("deny"), SUGGEST),
        _story("mixed", UserStep("ask"), SUGGEST, UserStep("thank"), SUGGEST),
        _story("unclear", UserStep("ask"), SUGGEST, UserStep(text="had it yesterday"), SUGGEST),
        _story("known", UserStep("ask"), SUGGEST, UserStep(text="Yes please"), ACCEPTED),
    ]
    known = NLUData((NLUExample("yes please", "affirm"),))
    # "had it yesterday" sits where both deny and thank were said: it teaches nothing
    turns = story_turns(Project(root=Path("."), stories=tuple(stories)))
    assert story_examples(turns, known) == (NLUExample("sushi works for me", "affirm"),)


def test_e2ebot_learns_its_end_to_end_texts(examples_dir: Path, tmp_path: Path) -> None:
    project = load_project(examples_dir / "e2ebot")
    part = NLUPart(story_turns=story_turns)  # as `parley train` wires it
    interpreter = load(train_project(project, tmp_path, parts=[part]).model)
    assert interpreter.parse("I can always go for sushi")["intent"]["name"] == "affirm"
    assert interpreter.parse("I had that yesterday")["intent"]["name"] == "deny"
