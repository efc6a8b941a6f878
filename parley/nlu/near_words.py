"""Words of a message that are misspellings or run-together forms of training words.

The in-domain confidence treats a message as nonsense when too few of its words occur in the
training data (`in_domain.KNOWN_FLOOR`). People type fast: `helo`, `hiii`, `byee`, `wheather`,
`goodmorning` are in-domain words the character n-gram features classify correctly, and must
not make a short message fall back as if it were gibberish. A word counts as a near form of a
training word when:

- the two are equal once runs of a repeated letter are cut to one (`hiii` ~ `hi`,
  `hellooo` ~ `hello`);
- or, both from 5 letters on (after that cut), one edit apart: a letter left out, added,
  changed or two neighbours swapped (`wheather` ~ `weather`, `pasword` ~ `password`; French
  `gare` is not taken for `game`);
- or it is two training words of at least 2 letters each written as one (`goodmorning`).

One edit is found without comparing against every training word: each word is indexed under
every form with one letter deleted (and where), and two words one edit apart share such a form
deleted at the same or a neighbouring place, or one of them is such a form of the other (the
deletion-neighbourhood idea of SymSpell).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_EDITED_LENGTH = 5  # shorter words have too many neighbours one edit away (`gare` ~ `game`)
MIN_PART_LENGTH = 2  # parts of a run-together word
MAX_JOINED_LENGTH = 30  # longer words are not split, nor indexed for edits
POSITIONS = MAX_JOINED_LENGTH + 1

_REPEATS = re.compile(r"(.)\1+")


def squeezed(word: str) -> str:
    """The word with every run of one repeated character cut to one (`hellooo` -> `helo`)."""
    return _REPEATS.sub(r"\1", word)


def one_deletions(word: str) -> list[tuple[str, int]]:
    """Each form of `word` with one letter deleted, and the position it was deleted at."""
    return [(word[:i] + word[i + 1 :], i) for i in range(len(word))]


class NearWords:
    """Finds the training word (lower-cased `words`) a misspelt or run-together word stands
    for."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)
        self.ordered = sorted(self.words)
        # squeezed form -> training word; one-letter deletion of a squeezed form -> the index
        # of its word in `ordered` x POSITIONS + where the letter was deleted (the
        # alphabetically first word where several share one, so that results do not depend on
        # the order of the training data; a packed int, as a vocabulary of 10,000 words has
        # some 60,000 deletions)
        self.by_form: dict[str, str] = {}
        self.by_deletion: dict[str, int] = {}
        for index, word in enumerate(self.ordered):
            form = squeezed(word)
            self.by_form.setdefault(form, word)
            if MIN_EDITED_LENGTH <= len(form) <= MAX_JOINED_LENGTH:
                for deletion, position in one_deletions(form):
                    self.by_deletion.setdefault(deletion, index * POSITIONS + position)

    def correction(self, word: str) -> str | None:
        """The training word (or two, space-separated) that `word` (lower case) is a near form
        of; None for a training word itself, a word with a digit (an entity value: `10am`) or
        a word near none."""
        if word in self.words or any(ch.isdigit() for ch in word):
            return None
        form = squeezed(word)
        if form in self.by_form:
            return self.by_form[form]
        if len(form) >= MIN_EDITED_LENGTH:
            if form in self.by_deletion:  # a letter left out
                return self.ordered[self.by_deletion[form] // POSITIONS]
            for deletion, position in one_deletions(form):
                if len(deletion) >= MIN_EDITED_LENGTH and deletion in self.by_form:
                    return self.by_form[deletion]  # a letter added
                packed = self.by_deletion.get(deletion)
                # the same letter changed, or two neighbours swapped (other places would be a
                # letter added here and another left out there: two edits)
                if packed is not None and abs(packed % POSITIONS - position) <= 1:
                    return self.ordered[packed // POSITIONS]
        return self._split(word)

    def corrected(self, words: list[str]) -> list[str] | None:
        """`words` with near forms replaced by the training words, or None if none is."""
        fixes = [self.correction(word) for word in words]
        if not any(fixes):
            return None
        return [fix or word for fix, word in zip(fixes, words, strict=True)]

    def _split(self, word: str) -> str | None:
        if len(word) > MAX_JOINED_LENGTH:
            return None
        for i in range(MIN_PART_LENGTH, len(word) - MIN_PART_LENGTH + 1):
            if word[:i] in self.words and word[i:] in self.words:
                return f"{word[:i]} {word[i:]}"
        return None
