"""BERT's uncased WordPiece tokenization, for the static word vectors (`static_vectors`).

The rules are those of the `tokenizers` library's BertNormalizer, BertPreTokenizer and WordPiece
model as all-MiniLM-L6-v2 configures them (lowercase, accents stripped, punctuation and CJK
ideographs split off, greedy longest-match sub-words marked `##`, at most 100 characters a word).
Written here so that the default install needs neither `tokenizers` nor its Hugging Face Hub
dependencies; a test checks that both give the same ids on the benchmark datasets.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

UNKNOWN = "[UNK]"
CONTINUATION = "##"
MAX_WORD_CHARS = 100
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True  # all non-alphanumeric ASCII, e.g. "$" and "`", counts as punctuation
    return unicodedata.category(char).startswith("P")


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Cn", "Co", "Cs")


def _normalise(text: str) -> str:
    """Drop control characters, blank other spaces, space out CJK, lowercase, strip accents."""
    chars = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            chars.append(" ")
        elif _is_cjk(code):
            chars.append(f" {char} ")
        else:
            chars.append(char)
    lowered = "".join(chars).lower()
    decomposed = unicodedata.normalize("NFD", lowered)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _pre_split(text: str) -> list[str]:
    """Whitespace-separated words, each punctuation character a word of its own."""
    words: list[str] = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                    current = ""
                words.append(char)
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPiece:
    """Token ids of a text under a WordPiece vocabulary (ids are positions in `vocabulary`)."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.ids = {token: i for i, token in enumerate(vocabulary)}
        self.unknown_id = self.ids[UNKNOWN]
        self.word_ids = lru_cache(maxsize=65536)(self._word_ids)

    def encode(self, text: str) -> list[int]:
        """Ids of `text`'s sub-words, without [CLS]/[SEP]."""
        ids: list[int] = []
        for word in _pre_split(_normalise(text)):
            ids.extend(self.word_ids(word))
        return ids

    def _word_ids(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD_CHARS:
            return (self.unknown_id,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while end > start:
                piece = word[start:end] if start == 0 else CONTINUATION + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:  # one part of the word is not in the vocabulary: the whole is [UNK]
                return (self.unknown_id,)
            pieces.append(found)
            start = end
        return tuple(pieces)
