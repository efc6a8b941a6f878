"""Inline entity annotations in training text: `[text](type)`, `[text]{...}`, `[text][{...}]`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]\[]+?)\]"
    r"(?:\((?P<short>[^)]*)\)|(?P<dict>\{[^{}]*\})|\[(?P<list>\{.*?\}(?:\s*,\s*\{.*?\})*)\])"
)
# A `[...]` directly followed by `(`, `{` or `[`: what is left of an annotation that did not parse.
_BROKEN = re.compile(r"\[[^\]]*\][({]|\]\[\s*\{|\]\([^)]*$")
_DICT_KEYS = {"entity", "value", "role", "group"}


@dataclass(frozen=True)
class EntityAnnotation:
    """An entity in a training example; start/end index the plain text."""

    start: int
    end: int
    text: str
    entity: str
    value: str
    role: str | None = None
    group: str | None = None

    def as_rasa_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "entity": self.entity,
        }
        if self.role is not None:
            out["role"] = self.role
        if self.group is not None:
            out["group"] = self.group
        return out


class AnnotationError(ValueError):
    """An entity annotation in training text does not parse."""


def _from_dict(raw: object, span: str) -> tuple[str, str, str | None, str | None]:
    if not isinstance(raw, dict):
        raise AnnotationError(f"entity annotation for '{span}' must be a JSON object")
    unknown = set(raw) - _DICT_KEYS
    if unknown:
        raise AnnotationError(
            f"entity annotation for '{span}' has unknown key(s) {', '.join(sorted(unknown))}"
            f" (expected: {', '.join(sorted(_DICT_KEYS))})"
        )
    if not isinstance(raw.get("entity"), str) or not raw["entity"]:
        raise AnnotationError(f"entity annotation for '{span}' needs an \"entity\" name")
    value = raw.get("value", span)
    role, group = raw.get("role"), raw.get("group")
    return (
        str(raw["entity"]),
        str(value),
        None if role is None else str(role),
        None if group is None else str(group),
    )


def _parse_one(match: re.Match[str]) -> list[tuple[str, str, str | None, str | None]]:
    span = match.group("text")
    if match.group("short") is not None:
        short = match.group("short").strip()
        if not short:
            raise AnnotationError(f"entity annotation for '{span}' has an empty entity name")
        name, _, value = short.partition(":")
        return [(name.strip(), value.strip() or span, None, None)]
    raw_json = match.group("dict") or f"[{match.group('list')}]"
    try:
        loaded = json.loads(raw_json)
    except json.JSONDecodeError as exc:
        raise AnnotationError(
            f"entity annotation for '{span}' is not valid JSON: {exc.msg} in {raw_json}"
        ) from None
    items = loaded if isinstance(loaded, list) else [loaded]
    return [_from_dict(item, span) for item in items]


def parse_annotated(text: str) -> tuple[str, tuple[EntityAnnotation, ...]]:
    """Strip annotations from `text`; return the plain text and its entities.

    Raises AnnotationError when an annotation is malformed.
    """
    plain_parts: list[str] = []
    entities: list[EntityAnnotation] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[cursor : match.start()]
        plain_parts.append(before)
        length += len(before)
        span = match.group("text")
        for entity, value, role, group in _parse_one(match):
            entities.append(
                EntityAnnotation(length, length + len(span), span, entity, value, role, group)
            )
        plain_parts.append(span)
        length += len(span)
        cursor = match.end()
    plain_parts.append(text[cursor:])
    plain = "".join(plain_parts)
    rest = _ANNOTATION.sub("", text)
    broken = _BROKEN.search(rest)
    if broken:
        raise AnnotationError(f"entity annotation does not parse near '{broken.group(0)}'")
    return plain, tuple(entities)
