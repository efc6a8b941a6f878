"""NLU training data written as Rasa 3.x YAML (`nlu:` items with `|` example blocks).

Entities go back into the text as Rasa's inline annotations: `[Berlin](city)`, or the JSON
form `[NYC]{"entity": "city", "value": "New York"}` when the value, role or group says more than
the text. Parsing the written file gives the same examples back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from parley.project.entities import EntityAnnotation
from parley.project.nlu_data import NLUData, NLUExample

FORMAT_VERSION = "3.1"


def annotate(example: NLUExample) -> str:
    """The example's text with its entities marked inline."""
    out: list[str] = []
    position = 0
    for entity in sorted(example.entities, key=lambda e: e.start):
        if entity.start < position:  # overlapping spans cannot be written inline: keep the first
            continue
        out.append(example.text[position : entity.start])
        out.append(f"[{example.text[entity.start : entity.end]}]{_label(entity)}")
        position = entity.end
    out.append(example.text[position:])
    return "".join(out)


def _label(entity: EntityAnnotation) -> str:
    if entity.value == entity.text and entity.role is None and entity.group is None:
        return f"({entity.entity})"
    spec: dict[str, str] = {"entity": entity.entity}
    if entity.value != entity.text:
        spec["value"] = entity.value
    if entity.role is not None:
        spec["role"] = entity.role
    if entity.group is not None:
        spec["group"] = entity.group
    return json.dumps(spec, ensure_ascii=False)


def _block(lines: Iterable[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {line}\n" for line in lines))


def nlu_document(data: NLUData, responses: dict[str, Any] | None = None) -> dict[str, Any]:
    """The YAML document (as ruamel objects) for `data`; intents in first-seen order."""
    items: list[dict[str, Any]] = []
    by_intent: dict[str, list[NLUExample]] = {}
    for example in data.examples:
        by_intent.setdefault(example.intent, []).append(example)
    for intent, examples in by_intent.items():
        items.append({"intent": intent, "examples": _block(annotate(e) for e in examples)})
    synonyms: dict[str, list[str]] = {}
    for text, value in data.synonyms.items():
        if text != value.lower():
            synonyms.setdefault(value, []).append(text)
    for value, texts in synonyms.items():
        items.append({"synonym": value, "examples": _block(texts)})
    for regex in data.regexes:
        items.append({"regex": regex.name, "examples": _block(regex.patterns)})
    for lookup in data.lookups:
        items.append({"lookup": lookup.name, "examples": _block(lookup.elements)})
    document: dict[str, Any] = {"version": DoubleQuotedScalarString(FORMAT_VERSION), "nlu": items}
    if responses:
        document["responses"] = responses
    return document


def dump_yaml(document: Any) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096  # one example per line, however long
    yaml.indent(mapping=2, sequence=2, offset=0)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def write_nlu(data: NLUData, path: Path, responses: dict[str, Any] | None = None) -> None:
    """Write `data` (and retrieval-intent `responses`, if any) as a Rasa 3.x NLU file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(nlu_document(data, responses)), encoding="utf-8")
