"""BILOU tags for entity spans over tokens, and back; a tag may carry a role and a group."""

from __future__ import annotations

from dataclasses import dataclass

from parley.nlu.message import Token
from parley.project.entities import EntityAnnotation

SEPARATOR = "#"  # "U-city#destination#1": entity, role, group
OUTSIDE = "O"


@dataclass(frozen=True)
class FoundEntity:
    entity: str
    start: int
    end: int
    value: str
    confidence: float
    role: str | None = None
    group: str | None = None


def _label(annotation: EntityAnnotation) -> str:
    if annotation.role is None and annotation.group is None:
        return annotation.entity
    return SEPARATOR.join([annotation.entity, annotation.role or "", annotation.group or ""])


def bilou_tags(
    tokens: list[Token], entities: tuple[EntityAnnotation, ...], bilou: bool = True
) -> list[str]:
    """One tag per token; tokens overlapping an entity's span belong to it.

    With `bilou=False` the tags are BIO (U becomes B, L becomes I): half the labels.
    """
    tags = [OUTSIDE] * len(tokens)
    for annotation in entities:
        inside = [
            i for i, t in enumerate(tokens) if t.start < annotation.end and t.end > annotation.start
        ]
        if not inside:
            continue
        label = _label(annotation)
        if len(inside) == 1:
            tags[inside[0]] = f"U-{label}"
            continue
        tags[inside[0]] = f"B-{label}"
        for i in inside[1:-1]:
            tags[i] = f"I-{label}"
        tags[inside[-1]] = f"L-{label}"
    if not bilou:
        tags = [("B" if t[0] == "U" else "I" if t[0] == "L" else t[0]) + t[1:] for t in tags]
    return tags


def _split(label: str) -> tuple[str, str | None, str | None]:
    if SEPARATOR not in label:
        return label, None, None
    entity, role, group = ([*label.split(SEPARATOR), "", ""])[:3]
    return entity, role or None, group or None


def decode_tags(
    text: str, tokens: list[Token], tags: list[str], confidences: list[float]
) -> list[FoundEntity]:
    """Entities from a tag sequence; lenient to I/L without B (they start an entity)."""
    found: list[FoundEntity] = []
    current: tuple[str, int, list[float]] | None = None  # label, first token, confidences

    def close(last: int) -> None:
        nonlocal current
        if current is None:
            return
        label, first, confs = current
        entity, role, group = _split(label)
        start, end = tokens[first].start, tokens[last].end
        found.append(
            FoundEntity(entity, start, end, text[start:end], sum(confs) / len(confs), role, group)
        )
        current = None

    for i, tag in enumerate(tags):
        if tag == OUTSIDE:
            close(i - 1)
            continue
        prefix, label = tag[0], tag[2:]
        if prefix in "BU" or current is None or current[0] != label:
            close(i - 1)
            current = (label, i, [])
        current[2].append(confidences[i])
        if prefix in "LU":
            close(i)
    close(len(tags) - 1)
    return found
