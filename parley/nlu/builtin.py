"""Built-in entities that need no training, in Duckling's dimension names and value shapes.

email, url, phone-number, number, ordinal, amount-of-money, and time (normalised to ISO 8601
by `dateparser`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any

# The look-behind starts a match only where a run of address characters starts: without it a
# long run with no "@" is scanned again from each of its characters (quadratic in the length).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{5,}\d(?!\w)")
_DIGITS = re.compile(
    r"(?<![\w.,])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,])|(?<![\w.,])-?\d+(?:\.\d+)?(?![\w])"
)
_ORDINAL_DIGITS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "twentieth": 20,
    "last": -1,
}  # fmt: skip
_NUMBER_WORDS = re.compile(
    r"\b(?:(?:" + "|".join(list(_UNITS) + list(_SCALES)) + r")(?:[\s-]+(?:and[\s-]+)?)?)+\b",
    re.IGNORECASE,
)
_ORDINAL_WORDS = re.compile(
    r"\b(?:" + "|".join(k for k in _ORDINALS if k != "last") + r")\b", re.IGNORECASE
)
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "usd": "USD", "bucks": "USD", "euro": "EUR",
    "euros": "EUR", "eur": "EUR", "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "yen": "JPY",
}  # fmt: skip
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = re.compile(
    rf"(?P<sym>[$€£¥])\s?(?P<a1>{_AMOUNT})"
    rf"|(?P<a2>{_AMOUNT})\s?(?P<word>(?:{'|'.join(_CURRENCY_WORDS)})\b|[$€£¥])",
    re.IGNORECASE,
)
# A date/time phrase must hold one of these, so that plain numbers or words are not dates.
_TIME_HINT = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|now|next|last|ago|in \d+|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may"
    r"|june?|july?|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|noon|midnight|morning|evening|afternoon|week|month|year)\b|\d{1,2}:\d{2}|\d\s?[ap]\.?m\b"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}",
    re.IGNORECASE,
)

_DANGLING = re.compile(r"(?:[\s,]+(?:and|or|the|at|on|in|for|to))+$", re.IGNORECASE)

Found = dict[str, Any]


def _entity(
    dim: str, match_start: int, match_end: int, text: str, value: Any, **extra: Any
) -> Found:
    info: dict[str, Any] = {"value": value, "type": "value", **extra}
    return {
        "entity": dim,
        "start": match_start,
        "end": match_end,
        "text": text[match_start:match_end],
        "value": value,
        "confidence_entity": 1.0,
        "additional_info": info,
    }


def _number(raw: str) -> int | float:
    cleaned = raw.replace(",", "")
    value = float(cleaned)
    return int(value) if value.is_integer() and "." not in cleaned else value


def words_to_number(phrase: str) -> int | None:
    total, current = 0, 0
    words = [w for w in re.split(r"[\s-]+", phrase.lower()) if w and w != "and"]
    if not words:
        return None
    for word in words:
        if word in _UNITS:
            current += _UNITS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
    return total + current


def emails(text: str) -> list[Found]:
    return [_entity("email", m.start(), m.end(), text, m.group(0)) for m in _EMAIL.finditer(text)]


def urls(text: str) -> list[Found]:
    out = []
    for m in _URL.finditer(text):
        domain = re.sub(r"^(?:https?://)?(?:www\.)?", "", m.group(0), flags=re.I).split("/")[0]
        out.append(_entity("url", m.start(), m.end(), text, m.group(0), domain=domain))
    return out


def phone_numbers(text: str) -> list[Found]:
    out = []
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 15:
            value = ("+" if m.group(0).startswith("+") else "") + digits
            out.append(_entity("phone-number", m.start(), m.end(), text, value))
    return out


def numbers(text: str) -> list[Found]:
    out = [
        _entity("number", m.start(), m.end(), text, _number(m.group(0)))
        for m in _DIGITS.finditer(text)
    ]
    for m in _NUMBER_WORDS.finditer(text):
        phrase = m.group(0).strip(" -")
        value = words_to_number(phrase)
        if value is not None:
            out.append(_entity("number", m.start(), m.start() + len(phrase), text, value))
    return out


def ordinals(text: str) -> list[Found]:
    out = [
        _entity("ordinal", m.start(), m.end(), text, int(m.group(1)))
        for m in _ORDINAL_DIGITS.finditer(text)
    ]
    out += [
        _entity("ordinal", m.start(), m.end(), text, _ORDINALS[m.group(0).lower()])
        for m in _ORDINAL_WORDS.finditer(text)
    ]
    return out


def amounts_of_money(text: str) -> list[Found]:
    out = []
    for m in _MONEY.finditer(text):
        if m.group("sym"):
            unit, amount = _CURRENCY_SYMBOLS[m.group("sym")], m.group("a1")
        else:
            word = m.group("word").lower()
            unit = _CURRENCY_SYMBOLS.get(word) or _CURRENCY_WORDS[word]
            amount = m.group("a2")
        out.append(_entity("amount-of-money", m.start(), m.end(), text, _number(amount), unit=unit))
    return out


def times(text: str, language: str = "en", timezone: str | None = None) -> list[Found]:
    """Dates and times, e.g. "tomorrow at 5pm" -> "2026-11-29T17:00:00.000+00:00"."""
    if not _TIME_HINT.search(text):
        return []
    from dateparser.search import search_dates

    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": timezone or "UTC",
    }
    found = search_dates(text, languages=[language], settings=settings) or []
    out: list[Found] = []
    cursor = 0
    for raw, moment in found:
        phrase = _DANGLING.sub("", raw)
        if not _TIME_HINT.search(phrase):
            continue
        start = text.find(phrase, cursor)
        if start < 0:
            continue
        cursor = start + len(phrase)
        out.append(_entity("time", start, cursor, text, _iso(moment), grain="second"))
    return out


def _iso(moment: datetime) -> str:
    stamp = moment.isoformat(timespec="milliseconds")
    return stamp if moment.tzinfo is not None else stamp + "+00:00"


EXTRACTORS: dict[str, Callable[[str], list[Found]]] = {
    "email": emails,
    "url": urls,
    "phone-number": phone_numbers,
    "amount-of-money": amounts_of_money,
    "ordinal": ordinals,
    "number": numbers,
}
DIMENSIONS = (*EXTRACTORS, "time")


def extract(
    text: str,
    dimensions: list[str] | None = None,
    language: str = "en",
    timezone: str | None = None,
) -> list[Found]:
    """Every built-in entity of the wanted `dimensions` (all by default), longest spans first
    claiming the text: a number inside a phone number or an amount is not reported twice."""
    wanted = dimensions or list(DIMENSIONS)
    candidates: list[Found] = []
    for dim in wanted:
        if dim == "time":
            candidates += times(text, language, timezone)
        elif dim in EXTRACTORS:
            candidates += EXTRACTORS[dim](text)
    priority = {dim: i for i, dim in enumerate(DIMENSIONS)}
    candidates.sort(key=lambda e: (-(e["end"] - e["start"]), priority[e["entity"]]))
    taken = _Spans()
    out = [entity for entity in candidates if taken.claim(entity["start"], entity["end"])]
    return sorted(out, key=lambda e: e["start"])


class _Spans:
    """Disjoint character spans, kept sorted: whether a new span overlaps one of them is two
    look-ups by bisection, not a scan of all of them."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def claim(self, start: int, end: int) -> bool:
        """Add [start, end) unless it overlaps a span already taken; True when added."""
        i = bisect_right(self.starts, start)
        if i > 0 and self.ends[i - 1] > start:
            return False
        if i < len(self.starts) and self.starts[i] < end:
            return False
        self.starts.insert(i, start)
        self.ends.insert(i, end)
        return True
