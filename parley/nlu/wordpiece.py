"""BERT's uncased WordPiece tokenization, for the static word vectors (`static_vectors`).

The rules are those of the `tokenizers` library's BertNormalizer, BertPreTokenizer and WordPiece
model as all-MiniLM-L6-v2 configures them (lowercase, accents stripped, punctuation and CJK
ideographs split off, greedy longest-match sub-words marked `##`, at most 100 characters a word).
Written here so that the default install needs neither `tokenizers` nor its Hugging Face Hub
dependencies; a test checks that both give the same ids on the benchmark datasets and on tricky
text (controls, Unicode spaces, accents, CJK, final sigma). On random strings of rare characters
about 0.2 % still differ: code points that Python's Unicode tables know and the reference's
older ones do not (such a character is [UNK] there).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

UNKNOWN = "[UNK]"
CONTINUATION = "##"
MAX_WORD_CHARS = 100
# Unicode's White_Space characters that are not control characters (\x0b, \x0c and \x85 are
# controls to the reference implementation, and removed)
_SPACES = "\t\n\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITESPACE = re.compile(f"[{_SPACES}]+")
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


def _is_control(char: str) -> bool:
    # unassigned code points (Cn) are kept, as the reference keeps them (they become [UNK])
    return char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def _normalise(chunk: str) -> str:
    """Drop control characters, space out CJK, lowercase, strip accents (`chunk` holds no
    whitespace: `WordPiece.encode` splits there first)."""
    chars = []
    for char in chunk:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_cjk(code):
            chars.append(f" {char} ")
        else:
            chars.append(char)
    # character by character, as the reference does: no final-sigma rule
    lowered = "".join(c.lower() for c in "".join(chars))
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
        self.chunk_ids = lru_cache(maxsize=65536)(self._chunk_ids)

    def encode(self, text: str) -> list[int]:
        """Ids of `text`'s sub-words, without [CLS]/[SEP]."""
        ids: list[int] = []
        for chunk in _WHITESPACE.split(text):
            if chunk:
                ids.extend(self.chunk_ids(chunk))
        return ids

    def is_word(self, text: str) -> bool:
        """Whether `text` is one whole-word token of the vocabulary (not split, not [UNK])."""
        ids = self.chunk_ids(text) if text and not _WHITESPACE.search(text) else ()
        return len(ids) == 1 and ids[0] != self.unknown_id

    def _chunk_ids(self, chunk: str) -> tuple[int, ...]:
        """Ids of a whitespace-free piece of text (normalising is per character, so pieces
        between whitespace can be encoded apart and cached)."""
        ids: list[int] = []
        for word in _pre_split(_normalise(chunk)):
            ids.extend(self.word_ids(word))
        return tuple(ids)

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
