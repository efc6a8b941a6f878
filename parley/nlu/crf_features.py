"""Per-token CRF features: the word, its shape and affixes, its neighbours, pattern matches."""

from __future__ import annotations

import re
import string
from functools import lru_cache

from parley.nlu.message import Token

_SHAPE = str.maketrans(
    string.ascii_uppercase + string.ascii_lowercase + string.digits,
    "X" * 26 + "x" * 26 + "d" * 10,
)
_REPEATS = re.compile(r"(.)\1{2,}")


@lru_cache(maxsize=65536)
def _shape(word: str) -> str:
    return _REPEATS.sub(r"\1\1", word.translate(_SHAPE))


@lru_cache(maxsize=65536)  # words repeat: a token's own features are computed once
def _own(word: str) -> tuple[str, ...]:
    lower = word.lower()
    feats = [
        f"w={lower}",
        f"p2={lower[:2]}",
        f"p3={lower[:3]}",
        f"s2={lower[-2:]}",
        f"s3={lower[-3:]}",
        f"s5={lower[-5:]}",
        f"sh={_shape(word)}",
    ]
    if word[:1].isupper():
        feats.append("title")
    if word.isupper() and len(word) > 1:
        feats.append("upper")
    if word.isdigit():
        feats.append("digit")
    if len(word) == 1:
        feats.append("len1")
    return tuple(feats)


def token_features(
    text: str,
    tokens: list[Token],
    intent: str | None,
    patterns: list[tuple[str, re.Pattern[str]]],
) -> list[list[str]]:
    """Feature strings for each token of one message (CRFsuite attributes of weight 1)."""
    lowers = [t.text.lower() for t in tokens]
    matched: list[set[str]] = [set() for _ in tokens]
    for name, pattern in patterns:
        for match in pattern.finditer(text):
            for i, token in enumerate(tokens):
                if token.start < match.end() and token.end > match.start():
                    matched[i].add(name)
    out: list[list[str]] = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        feats = ["bias", *_own(token.text)]
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < n:
                feats.append(f"{offset}:w={lowers[j]}")
                if abs(offset) == 1:
                    feats.append(f"{offset}:s3={lowers[j][-3:]}")
                    feats.append(f"{offset}:sh={_shape(tokens[j].text)}")
            else:
                feats.append(f"{offset}:pad")
        if i > 0:
            feats.append(f"bi-={lowers[i - 1]}|{lowers[i]}")
        if i + 1 < n:
            feats.append(f"bi+={lowers[i]}|{lowers[i + 1]}")
        feats.extend(f"pattern={name}" for name in sorted(matched[i]))
        if intent:
            feats.append(f"intent={intent}")
            feats.append(f"intent|w={intent}|{lowers[i]}")
        out.append(feats)
    return out
