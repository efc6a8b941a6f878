"""`utter_*` responses: pick a variation (channel, slot conditions), fill in `{slot}` values."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

from parley.dialogue.events import BotUttered
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain, ResponseVariation

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)\}")
_DATA_KEYS = ("elements", "quick_replies", "buttons", "attachment", "image", "custom")


def _fill(value: Any, values: dict[str, Any]) -> Any:
    """Replace `{name}` by the value; unknown names stay as written (as in Rasa)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), value
        )
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _condition_met(variation: ResponseVariation, slots: dict[str, Any]) -> bool:
    for condition in variation.conditions:
        actual = slots.get(condition.name)
        if isinstance(actual, str) and isinstance(condition.value, str):
            if actual.lower() != condition.value.lower():
                return False
        elif actual != condition.value:
            return False
    return True


def choose_variation(
    variations: tuple[ResponseVariation, ...],
    slots: dict[str, Any],
    channel: str | None,
    rng: random.Random | None = None,
) -> ResponseVariation | None:
    """Rasa's choice: channel-specific first, conditional (when met) before unconditional."""
    for_channel = [v for v in variations if channel and v.channel == channel]
    pool = for_channel or [v for v in variations if not v.channel]
    conditional = [v for v in pool if v.conditions and _condition_met(v, slots)]
    candidates = conditional or [v for v in pool if not v.conditions]
    if not candidates:
        return None
    return (rng or random).choice(candidates)


def render_variation(name: str, variation: ResponseVariation, values: dict[str, Any]) -> BotUttered:
    raw = copy.deepcopy(variation.raw)
    text = _fill(raw.get("text"), values) if raw.get("text") is not None else None
    data = {key: _fill(raw.get(key), values) if raw.get(key) else None for key in _DATA_KEYS}
    return BotUttered(text=text, data=data, metadata={"utter_action": name})


def render_response(
    name: str,
    tracker: Tracker,
    domain: Domain,
    channel: str | None = None,
    extra_values: dict[str, Any] | None = None,
) -> BotUttered | None:
    """The bot message of response `name`, or None when the domain has no usable variation."""
    variations = domain.responses.get(name)
    if not variations:
        return None
    variation = choose_variation(variations, tracker.slots, channel)
    if variation is None:
        return None
    values = {**tracker.slots, **(extra_values or {})}
    return render_variation(name, variation, values)


def retrieval_response(
    tracker: Tracker, domain: Domain, name: str, channel: str | None
) -> BotUttered | None:
    """`utter_faq`: the answer the response selector chose for the latest message."""
    message = tracker.latest_message
    if message is None:
        return None
    retrieval_intent = name.removeprefix("utter_")
    selectors = message.parse_data.get("response_selector") or {}
    selected = selectors.get(retrieval_intent) or selectors.get("default") or {}
    response = selected.get("response") or {}
    key = response.get("intent_response_key") or response.get("full_retrieval_intent")
    if key:
        rendered = render_response(f"utter_{key}", tracker, domain, channel)
        if rendered is not None:
            return rendered
    answers = response.get("responses") or []
    if answers and isinstance(answers[0], dict):
        first = answers[0]
        return BotUttered(
            text=first.get("text"),
            data={k: first.get(k) for k in _DATA_KEYS},
            metadata={"utter_action": response.get("utter_action") or name},
        )
    return None
