"""A stored conversation as a Rasa test story (`tests/test_*.yml`): each user message with its
intent and entities annotated in the text, the actions that ran, slots set and forms started or
ended, so what happened once can be replayed by `parley test`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from parley.studio.index import parsed_intent
from parley.studio.nlu_files import new_document_text

SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start"})


def annotate(text: str, entities: Iterable[dict[str, Any]]) -> str:
    """`text` with each located entity written the way training data marks it: `[span](name)`,
    or `[span]{"entity": ..., "value": ...}` when the value is not the span itself."""
    located = sorted(
        (e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)),
        key=lambda e: int(e["start"]),
    )
    out, at = [], 0
    for entity in located:
        start, end = int(entity["start"]), int(entity["end"])
        if start < at or end > len(text) or start >= end:
            continue  # overlapping or out of range: leave the text as it is there
        span = text[start:end]
        name = str(entity.get("entity"))
        value = entity.get("value")
        if value is None or str(value) == span:
            mark = f"[{span}]({name})"
        else:
            mark = f"[{span}]" + json.dumps({"entity": name, "value": value}, ensure_ascii=False)
        out.append(text[at:start] + mark)
        at = end
    out.append(text[at:])
    return "".join(out)


def story_steps(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            text = annotate(str(event.get("text") or ""), parse.get("entities") or [])
            step: dict[str, Any] = {"user": LiteralScalarString(text + "\n")}
            intent = parsed_intent(parse)
            if intent:
                step["intent"] = intent
            steps.append(step)
        elif kind == "action" and event.get("name") not in SKIPPED_ACTIONS:
            steps.append({"action": str(event.get("name"))})
        elif kind == "slot":
            steps.append({"slot_was_set": [{str(event.get("name")): event.get("value")}]})
        elif kind in ("active_loop", "form"):
            steps.append({"active_loop": event.get("name")})
    return steps


def story_yaml(sender_id: str, events: Iterable[dict[str, Any]]) -> str:
    """A complete test-story file holding one story named after the conversation."""
    story = CommentedMap()
    story["story"] = f"conversation {sender_id}"
    story["steps"] = CommentedSeq(CommentedMap(step) for step in story_steps(events))
    document = CommentedMap()
    document["version"] = "3.1"
    document["stories"] = CommentedSeq([story])
    return new_document_text(document)
