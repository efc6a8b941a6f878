from __future__ import annotations

import pytest

from parley.nlu.near_words import NearWords

WORDS = ["hello", "hi", "bye", "weather", "password", "good", "morning", "what", "are", "game"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("hellooo", "hello"),  # a letter held down
        ("hiii", "hi"),
        ("byee", "bye"),
        ("helo", "hello"),  # a double letter typed once
        ("pasword", "password"),
        ("wheather", "weather"),  # a letter added
        ("weathers", "weather"),
        ("wether", "weather"),  # a letter left out
        ("weathre", "weather"),  # two neighbours swapped
        ("passwprd", "password"),  # a letter changed
        ("goodmorning", "good morning"),  # two words run together
    ],
)
def test_misspelt_and_run_together_words_are_read_as_the_training_words(
    typed: str, meant: str
) -> None:
    assert NearWords(WORDS).correction(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "hello",  # a training word needs no correction
        "gare",  # short words: too many neighbours one edit away (French, not `game`)
        "ares",
        "asdkjh",  # gibberish
        "wheaters",  # two edits
    ],
)
def test_training_words_short_words_and_gibberish_are_left_alone(typed: str) -> None:
    assert NearWords(WORDS).correction(typed) is None


def test_two_edits_at_different_places_are_not_one() -> None:
    # `esta` and `best` share `est` with a letter deleted at different places: a letter added
    # at one end and another left out at the other, two edits
    near = NearWords(["bestow", "theatre"])
    assert near.correction("estowa") is None
    assert near.correction("thaetre") == "theatre"  # neighbours swapped


def test_a_sentence_is_corrected_word_by_word_or_not_at_all() -> None:
    near = NearWords(WORDS)
    assert near.corrected(["whats", "the", "wheather"]) == ["whats", "the", "weather"]
    assert near.corrected(["hello", "there"]) is None
