"""WhitespaceTokenizer: words and numbers with their character spans."""

from __future__ import annotations

import re

from parley.nlu.message import Token

# Words (letters, digits, inner apostrophes/hyphens/dots as in "don't", "e-mail", "3.5"), or
# any other single non-space character, so nothing of the text is lost.
_TOKEN = re.compile(r"\w+(?:['\u2019\-.@]\w+)*|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; punctuation becomes tokens of its own."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def word_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens that contain a letter or digit (punctuation left out)."""
    return [t for t in tokens if any(c.isalnum() for c in t.text)]
