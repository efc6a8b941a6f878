"""NLU examples taught by end-to-end stories: a story's `user:` text without an intent.

Such a text is labelled with the intent the other stories show at the same place of a
conversation: after the same bot action and followed by the same bot action. E.g. "I can always
go for sushi" said after `utter_suggest_cuisine` and answered with `utter_search_restaurants`
is `affirm` when every story with an intent there says `affirm`. Texts whose place is
ambiguous (several intents) or unknown, and texts with entities, teach nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.dialogue.events import ActionExecuted, Event, UserUttered
from parley.dialogue.tracker import ACTION_LISTEN
from parley.dialogue.training_data import training_stories
from parley.project.nlu_data import NLUData, NLUExample
from parley.project.stories import Story

Place = tuple[str | None, str | None]  # (bot action before the user spoke, bot action after)


def _action_name(event: ActionExecuted) -> str | None:
    return event.name if event.name is not None else f"text:{event.action_text}"


def _user_places(events: Sequence[Event]) -> list[tuple[UserUttered, Place]]:
    places: list[tuple[UserUttered, Place]] = []
    before: str | None = None
    for index, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.name != ACTION_LISTEN:
            before = _action_name(event)
        elif isinstance(event, UserUttered):
            after = next(
                (_action_name(e) for e in events[index + 1 :] if isinstance(e, ActionExecuted)),
                None,
            )
            places.append((event, (before, after)))
    return places


def story_examples(stories: Sequence[Story], known: NLUData) -> tuple[NLUExample, ...]:
    """Examples for the intent-less user texts of `stories` (texts in `known` are left out)."""
    intents: dict[Place, set[str]] = {}
    texts: dict[str, Place] = {}
    for _, events in training_stories(stories):
        for message, place in _user_places(events):
            if message.intent_name:
                intents.setdefault(place, set()).add(message.intent_name)
            elif message.text and not message.entities:
                texts.setdefault(message.text, place)
    seen = {e.text.strip().lower() for e in known.examples}
    examples: list[NLUExample] = []
    for text, place in texts.items():
        labels = intents.get(place, set())
        if len(labels) == 1 and text.strip().lower() not in seen:
            examples.append(NLUExample(text, next(iter(labels))))
    return tuple(examples)
