"""Messages like `/intent{"entity": "value"}` parsed without NLU (as Rasa's RegexMessageHandler).

`/greet`, `/inform{"priority": "high"}`, `/affirm@0.8` (confidence), and entity lists
(`/inform{"topping": ["ham", "olive"]}`, one entity per value). Buttons send such payloads.
"""

from __future__ import annotations

import json
import re
from typing import Any

_MESSAGE = re.compile(
    r"^/(?P<intent>[^{@\s]+)(?:@(?P<confidence>[0-9.]+))?(?P<entities>\{.*\})?\s*$", re.S
)


def is_intent_message(text: str | None) -> bool:
    return bool(text) and str(text).startswith("/") and _MESSAGE.match(str(text)) is not None


def parse_intent_message(text: str) -> dict[str, Any] | None:
    """The Rasa parse dict of an intent message, or None when `text` is not one."""
    match = _MESSAGE.match(text.strip())
    if match is None:
        return None
    confidence = 1.0
    if match.group("confidence"):
        try:
            confidence = float(match.group("confidence"))
        except ValueError:
            confidence = 1.0
    entities: list[dict[str, Any]] = []
    raw = match.group("entities")
    if raw:
        try:
            values = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        start, end = match.start("entities"), match.end("entities")
        for name, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                entities.append({"entity": name, "value": item, "start": start, "end": end})
    intent = {"name": match.group("intent"), "confidence": confidence}
    return {
        "text": text,
        "intent": intent,
        "intent_ranking": [dict(intent)],
        "entities": entities,
    }
