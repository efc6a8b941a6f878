"""Older Rasa NLU formats read into `NLUData`, for `parley data convert nlu`.

- Markdown (Rasa 1.x/2.x): `## intent:NAME`, `## synonym:VALUE`, `## regex:NAME`,
  `## lookup:NAME` sections of `- ` lines; entities inline (`[Berlin](city)`,
  `[NYC](city:New York)`, `[Berlin]{"entity": "city", "role": "to"}`); `<!-- -->` comments.
- JSON (`{"rasa_nlu_data": {...}}`): `common_examples` with character offsets,
  `entity_synonyms`, `regex_features`, `lookup_tables`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from parley.project.entities import AnnotationError, EntityAnnotation, parse_annotated
from parley.project.errors import Location, ProblemSink
from parley.project.nlu_data import LookupTable, NLUData, NLUExample, RegexPattern

_HEADER = re.compile(r"^##\s*(intent|synonym|regex|lookup)\s*:\s*(.+?)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
SUFFIXES = (".md", ".json")


class ConvertError(ValueError):
    """A file cannot be converted (not an NLU file of a known format)."""


def read_markdown(path: Path, sink: ProblemSink) -> NLUData:
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text("utf-8"))
    examples: list[NLUExample] = []
    synonyms: dict[str, str] = {}
    regexes: dict[str, list[str]] = {}
    lookups: dict[str, list[str]] = {}
    section: tuple[str, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        header = _HEADER.match(stripped)
        if header:
            section = (header.group(1), header.group(2))
            continue
        where = Location(path, number, 1)
        if stripped.startswith("#"):
            sink.warning(where, f"section {stripped!r} is not an NLU section; skipped")
            section = None
            continue
        if section is None:
            continue
        if not stripped.startswith("-"):
            sink.warning(where, f"line is not a '- ' item of {section[0]} {section[1]}; skipped")
            continue
        item = stripped[1:].strip()
        kind, name = section
        if kind == "intent":
            try:
                plain, entities = parse_annotated(item)
            except AnnotationError as exc:
                sink.error(where, str(exc))
                continue
            examples.append(NLUExample(plain, name, entities, None, where))
        elif kind == "synonym":
            synonyms[item.lower()] = name
        elif kind == "regex":
            regexes.setdefault(name, []).append(item)
        else:
            lookups.setdefault(name, []).append(item)
    return _with_entity_synonyms(
        NLUData(
            tuple(examples),
            synonyms,
            tuple(RegexPattern(n, tuple(p)) for n, p in regexes.items()),
            tuple(LookupTable(n, tuple(v)) for n, v in lookups.items()),
        )
    )


def read_json(path: Path, sink: ProblemSink) -> NLUData:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ConvertError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    data = raw.get("rasa_nlu_data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        raise ConvertError(f"{path}: not Rasa NLU JSON (no 'rasa_nlu_data' object)")
    examples: list[NLUExample] = []
    for index, item in enumerate(data.get("common_examples") or []):
        where = Location(path, 1, 1)
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            sink.error(where, f"common_examples[{index}] has no 'text'; skipped")
            continue
        intent = item.get("intent")
        if not intent:
            sink.warning(where, f"common_examples[{index}] has no intent; skipped")
            continue
        entities = _json_entities(item, index, where, sink)
        examples.append(NLUExample(item["text"], str(intent), entities, None, where))
    synonyms = {
        str(s).lower(): str(entry["value"])
        for entry in data.get("entity_synonyms") or []
        if isinstance(entry, dict) and "value" in entry
        for s in entry.get("synonyms") or []
    }
    regexes: dict[str, list[str]] = {}
    for entry in data.get("regex_features") or []:
        if isinstance(entry, dict) and entry.get("name") and entry.get("pattern"):
            regexes.setdefault(str(entry["name"]), []).append(str(entry["pattern"]))
    lookups: list[LookupTable] = []
    for entry in data.get("lookup_tables") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        elements = entry.get("elements")
        if isinstance(elements, str):  # a path to a text file of values, relative to the data
            elements = _lookup_file(path.parent / elements, sink, path)
        lookups.append(LookupTable(str(entry["name"]), tuple(str(e) for e in elements or [])))
    return _with_entity_synonyms(
        NLUData(
            tuple(examples),
            synonyms,
            tuple(RegexPattern(n, tuple(p)) for n, p in regexes.items()),
            tuple(lookups),
        )
    )


def _json_entities(
    item: dict[str, Any], index: int, where: Location, sink: ProblemSink
) -> tuple[EntityAnnotation, ...]:
    text: str = item["text"]
    found: list[EntityAnnotation] = []
    for entity in item.get("entities") or []:
        try:
            start, end = int(entity["start"]), int(entity["end"])
            name = str(entity["entity"])
        except (KeyError, TypeError, ValueError):
            sink.error(where, f"common_examples[{index}]: an entity lacks start, end or entity")
            continue
        if not 0 <= start < end <= len(text):
            sink.error(where, f"common_examples[{index}]: entity {name} is outside the text")
            continue
        span = text[start:end]
        value = entity.get("value", span)
        role, group = entity.get("role"), entity.get("group")
        found.append(
            EntityAnnotation(
                start,
                end,
                span,
                name,
                str(value),
                None if role is None else str(role),
                None if group is None else str(group),
            )
        )
    return tuple(found)


def _lookup_file(file: Path, sink: ProblemSink, source: Path) -> list[str]:
    if not file.is_file():
        sink.error(Location(source, 1, 1), f"lookup table file {file} does not exist")
        return []
    return [line.strip() for line in file.read_text("utf-8").splitlines() if line.strip()]


def _with_entity_synonyms(data: NLUData) -> NLUData:
    """Entity values that differ from their text are synonyms too (as Rasa reads them)."""
    synonyms = dict(data.synonyms)
    for example in data.examples:
        for entity in example.entities:
            if entity.value != entity.text:
                synonyms.setdefault(entity.text.lower(), entity.value)
    return NLUData(data.examples, synonyms, data.regexes, data.lookups)


def read_legacy_nlu(path: Path, sink: ProblemSink) -> NLUData:
    """A Markdown or JSON NLU file; raises ConvertError for any other file."""
    if path.suffix == ".md":
        return read_markdown(path, sink)
    if path.suffix == ".json":
        return read_json(path, sink)
    raise ConvertError(f"{path}: only Rasa Markdown (.md) and JSON (.json) NLU files convert")
