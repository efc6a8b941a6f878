"""NLU training data: examples with entities, synonyms, regexes, lookup tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.project.entities import AnnotationError, EntityAnnotation, parse_annotated
from parley.project.errors import Location, ProblemSink
from parley.project.yamlio import (
    check_keys,
    expect,
    item_location,
    key_location,
    plain,
    value_location,
)

RESPONSE_KEY_SEPARATOR = "/"


@dataclass(frozen=True)
class NLUExample:
    """One training utterance. `intent` is the full name, e.g. `faq/ask_hours`."""

    text: str
    intent: str
    entities: tuple[EntityAnnotation, ...] = ()
    metadata: dict[str, Any] | None = None
    location: Location | None = field(default=None, compare=False)

    @property
    def base_intent(self) -> str:
        """`faq` for `faq/ask_hours`; the intent itself otherwise."""
        return self.intent.split(RESPONSE_KEY_SEPARATOR, 1)[0]

    @property
    def response_key(self) -> str | None:
        """`ask_hours` for `faq/ask_hours`; None for a plain intent."""
        parts = self.intent.split(RESPONSE_KEY_SEPARATOR, 1)
        return parts[1] if len(parts) == 2 else None


@dataclass(frozen=True)
class RegexPattern:
    """A named regular expression: a feature, and an extractor for entity `name`."""

    name: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class LookupTable:
    """A named list of values: a feature, and an extractor for entity `name`."""

    name: str
    elements: tuple[str, ...]


@dataclass(frozen=True)
class NLUData:
    """Everything the NLU pipeline trains on."""

    examples: tuple[NLUExample, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)  # synonym text (lower) -> value
    regexes: tuple[RegexPattern, ...] = ()
    lookups: tuple[LookupTable, ...] = ()

    @property
    def intents(self) -> tuple[str, ...]:
        """Base intent names in first-seen order."""
        return tuple(dict.fromkeys(e.base_intent for e in self.examples))

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.entity for e in self.examples for a in e.entities))

    def merge(self, other: NLUData) -> NLUData:
        return NLUData(
            self.examples + other.examples,
            {**self.synonyms, **other.synonyms},
            self.regexes + other.regexes,
            self.lookups + other.lookups,
        )


_ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
_ITEM_KEYS = {"intent": {"intent", "examples", "metadata"}}
for _kind in ("synonym", "regex", "lookup"):
    _ITEM_KEYS[_kind] = {_kind, "examples"}


def _example_lines(path: Path, item: Any, sink: ProblemSink) -> list[tuple[str, Location, Any]]:
    """(text, location, metadata) for each example of an nlu item."""
    if "examples" not in item:
        sink.error(key_location(path, item, next(iter(item))), "missing 'examples'")
        return []
    raw = item["examples"]
    where = value_location(path, item, "examples")
    out: list[tuple[str, Location, Any]] = []
    if isinstance(raw, str):
        for offset, line in enumerate(raw.splitlines()):
            stripped = line.strip()
            if not stripped:
                continue
            loc = Location(path, where.line + 1 + offset, 1)
            if not stripped.startswith("- "):
                if stripped == "-":
                    continue
                sink.error(loc, f"example must start with '- ': {stripped!r}")
                continue
            out.append((stripped[2:].strip(), loc, None))
        return out
    if isinstance(raw, list):
        for index, entry in enumerate(raw):
            loc = item_location(path, raw, index)
            if isinstance(entry, str):
                out.append((entry.strip(), loc, None))
            elif isinstance(entry, dict) and isinstance(entry.get("text"), str):
                check_keys(path, entry, {"text", "metadata"}, sink, "an example")
                out.append((entry["text"].strip(), loc, plain(entry.get("metadata"))))
            else:
                sink.error(loc, "example must be a string or a mapping with 'text'")
        return out
    expect(path, item, "examples", (str, list), sink, "an nlu item")
    return []


def parse_nlu_section(path: Path, section: Any, sink: ProblemSink) -> NLUData:
    """Parse the list under a file's `nlu:` key."""
    if not isinstance(section, list):
        sink.error(
            Location(path, 1, 1), "'nlu' must be a list of intent/synonym/regex/lookup items"
        )
        return NLUData()
    examples: list[NLUExample] = []
    synonyms: dict[str, str] = {}
    regexes: list[RegexPattern] = []
    lookups: list[LookupTable] = []
    for index, item in enumerate(section):
        loc = item_location(path, section, index)
        if not isinstance(item, dict):
            sink.error(loc, "nlu item must be a mapping with one of: " + ", ".join(_ITEM_KINDS))
            continue
        kinds = [k for k in _ITEM_KINDS if k in item]
        if len(kinds) != 1:
            sink.error(loc, "nlu item needs exactly one of: " + ", ".join(_ITEM_KINDS))
            continue
        kind = kinds[0]
        check_keys(path, item, _ITEM_KEYS[kind], sink, f"an nlu '{kind}' item")
        if not expect(path, item, kind, str, sink, "an nlu item"):
            continue
        name = str(item[kind]).strip()
        lines = _example_lines(path, item, sink)
        if kind == "intent":
            intent_meta = plain(item.get("metadata"))
            for text, line_loc, meta in lines:
                try:
                    plain_text, entities = parse_annotated(text)
                except AnnotationError as exc:
                    sink.error(line_loc, str(exc))
                    continue
                examples.append(
                    NLUExample(plain_text, name, entities, meta or intent_meta, line_loc)
                )
        elif kind == "synonym":
            for text, _, _ in lines:
                synonyms[text.lower()] = name
        elif kind == "regex":
            regexes.append(RegexPattern(name, tuple(t for t, _, _ in lines)))
        else:
            lookups.append(LookupTable(name, tuple(t for t, _, _ in lines)))
    for example in examples:
        for annotation in example.entities:
            if annotation.value != annotation.text:
                synonyms.setdefault(annotation.text.lower(), annotation.value)
    return NLUData(tuple(examples), synonyms, tuple(regexes), tuple(lookups))
