"""NLU examples taught by end-to-end stories: a story's `user:` text without an intent.

Such a text is labelled with the intent the other stories show at the same place of a
conversation: after the same bot action and followed by the same bot action. E.g. "I can always
go for sushi" said after `utter_suggest_cuisine` and answered with `utter_search_restaurants`
is `affirm` when every story with an intent there says `affirm`. Texts whose place is
ambiguous (several intents) or unknown, and texts with entities, teach nothing.

The NLU does not read stories itself: the training orchestration (`parley.training`) hands it
each story's user turns with their place (`parley.dialogue.story_turns` finds them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from parley.project.loader import Project
from parley.project.nlu_data import NLUData, NLUExample


@dataclass(frozen=True)
class StoryTurn:
    """A user turn of a story and its place: the bot actions just before and after it."""

    text: str | None
    intent: str | None
    has_entities: bool
    before: str | None
    after: str | None


StoryTurns = Callable[[Project], Sequence[StoryTurn]]
"""Finds the user turns of a project's stories (given to `NLUPart` by the training)."""


def story_examples(turns: Sequence[StoryTurn], known: NLUData) -> tuple[NLUExample, ...]:
    """Examples for the intent-less user texts among `turns` (texts in `known` are left out)."""
    intents: dict[tuple[str | None, str | None], set[str]] = {}
    texts: dict[str, tuple[str | None, str | None]] = {}
    for turn in turns:
        place = (turn.before, turn.after)
        if turn.intent:
            intents.setdefault(place, set()).add(turn.intent)
        elif turn.text and not turn.has_entities:
            texts.setdefault(turn.text, place)
    seen = {e.text.strip().lower() for e in known.examples}
    examples: list[NLUExample] = []
    for text, place in texts.items():
        labels = intents.get(place, set())
        if len(labels) == 1 and text.strip().lower() not in seen:
            examples.append(NLUExample(text, next(iter(labels))))
    return tuple(examples)
