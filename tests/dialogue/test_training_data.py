from __future__ import annotations

from parley.dialogue.events import ActionExecuted, UserUttered
from parley.dialogue.training_data import training_stories
from parley.project.stories import ActionStep, CheckpointStep, OrStep, Story, UserStep


def _names(events: list) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, UserUttered):
            out.append(f"+{e.intent_name}")
        elif isinstance(e, ActionExecuted):
            out.append(str(e.name))
    return out


def test_checkpoints_join_stories_and_or_steps_expand() -> None:
    stories = [
        Story("start", (UserStep("greet"), ActionStep("utter_greet"), CheckpointStep("greeted"))),
        Story(
            "then",
            (
                CheckpointStep("greeted"),
                OrStep((UserStep("affirm"), UserStep("thanks"))),
                ActionStep("utter_ok"),
            ),
        ),
    ]
    paths = [_names(events) for _, events in training_stories(stories)]
    assert paths == [
        [
            "action_listen",
            "+greet",
            "utter_greet",
            "action_listen",
            "+affirm",
            "utter_ok",
            "action_listen",
        ],
        [
            "action_listen",
            "+greet",
            "utter_greet",
            "action_listen",
            "+thanks",
            "utter_ok",
            "action_listen",
        ],
    ]
