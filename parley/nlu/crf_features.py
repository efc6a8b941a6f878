"""Per-token CRF features: the word, its shape and affixes, its neighbours, pattern matches."""

from __future__ import annotations

import re
import string
from bisect import bisect_right
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


@lru_cache(maxsize=65536)
def _neighbour(offset: int, word: str) -> tuple[str, ...]:
    """Features a token gets from the word `offset` places away."""
    lower = word.lower()
    if abs(offset) == 1:
        return (f"{offset}:w={lower}", f"{offset}:s3={lower[-3:]}", f"{offset}:sh={_shape(word)}")
    return (f"{offset}:w={lower}",)


_BIAS = ("bias",)
_OFFSETS = (-2, -1, 1, 2)
_PADS = {offset: (f"{offset}:pad",) for offset in _OFFSETS}

# One token's features in two parts: groups that depend on single words only (the same tuple
# objects whenever the word recurs, so a model can keep what they map to), and the rest.
TokenParts = tuple[list[tuple[str, ...]], list[str]]


def token_feature_parts(
    text: str,
    tokens: list[Token],
    intent: str | None,
    patterns: list[tuple[str, re.Pattern[str]]],
) -> list[TokenParts]:
    """Each token's features as (word groups, other features); see `token_features`."""
    lowers = [t.text.lower() for t in tokens]
    matched = _pattern_matches(text, tokens, patterns)
    out: list[TokenParts] = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        groups = [_BIAS, _own(token.text)]
        for offset in _OFFSETS:
            j = i + offset
            groups.append(_neighbour(offset, tokens[j].text) if 0 <= j < n else _PADS[offset])
        rest: list[str] = []
        if i > 0:
            rest.append(f"bi-={lowers[i - 1]}|{lowers[i]}")
        if i + 1 < n:
            rest.append(f"bi+={lowers[i]}|{lowers[i + 1]}")
        rest.extend(f"pattern={name}" for name in sorted(matched[i]))
        if intent:
            rest.append(f"intent={intent}")
            rest.append(f"intent|w={intent}|{lowers[i]}")
        out.append((groups, rest))
    return out


def _pattern_matches(
    text: str, tokens: list[Token], patterns: list[tuple[str, re.Pattern[str]]]
) -> list[set[str]]:
    """The names of the patterns each token overlaps. Tokens are in text order and do not
    overlap, so the first token a match touches is found by bisection and only the tokens it
    covers are visited: linear in the text, not (matches x tokens)."""
    matched: list[set[str]] = [set() for _ in tokens]
    if not patterns or not tokens:
        return matched
    ends = [token.end for token in tokens]
    n = len(tokens)
    for name, pattern in patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            i = bisect_right(ends, start)  # the first token ending after the match starts
            while i < n and tokens[i].start < end:
                matched[i].add(name)
                i += 1
    return matched


def token_features(
    text: str,
    tokens: list[Token],
    intent: str | None,
    patterns: list[tuple[str, re.Pattern[str]]],
) -> list[list[str]]:
    """Feature strings for each token of one message (CRFsuite attributes of weight 1): the
    word, its affixes and shape, its neighbours, the word pairs around it, pattern matches and
    the intent."""
    return [
        [feature for group in groups for feature in group] + rest
        for groups, rest in token_feature_parts(text, tokens, intent, patterns)
    ]
