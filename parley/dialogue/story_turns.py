"""The user turns of stories with their place in the conversation, for the NLU to learn the
end-to-end texts from (see `parley.nlu.story_examples`)."""

from __future__ import annotations

from collections.abc import Sequence

from parley.dialogue.events import ActionExecuted, Event, UserUttered
from parley.dialogue.tracker import ACTION_LISTEN
from parley.dialogue.training_data import training_stories
from parley.nlu.story_examples import StoryTurn
from parley.project.loader import Project


def _action_name(event: ActionExecuted) -> str | None:
    return event.name if event.name is not None else f"text:{event.action_text}"


def _turns(events: Sequence[Event]) -> list[StoryTurn]:
    turns: list[StoryTurn] = []
    before: str | None = None
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.name != ACTION_LISTEN:
            before = _action_name(event)
        elif isinstance(event, UserUttered):
            after = next(
                (_action_name(e) for e in events[index + 1 :] if isinstance(e, ActionExecuted)),
                None,
            )
            turns.append(
                StoryTurn(event.text, event.intent_name, bool(event.entities), before, after)
            )
    return turns


def story_turns(project: Project) -> list[StoryTurn]:
    """Every user turn of the project's stories (each OR branch and checkpoint path walked)."""
    return [turn for _, events in training_stories(project.stories) for turn in _turns(events)]
