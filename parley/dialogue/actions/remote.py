"""Custom actions, run through a `CustomActionRunner` with Rasa's webhook request and reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from parley.dialogue.action_errors import ActionFailed
from parley.dialogue.actions.base import ActionContext
from parley.dialogue.actions.responses import render_response
from parley.dialogue.domain_json import domain_to_json
from parley.dialogue.events import BotUttered, Event, EventError, events_from_dicts
from parley.dialogue.tracker import Tracker

logger = logging.getLogger(__name__)
RASA_PROTOCOL_VERSION = "3.6.21"  # the Rasa version action servers are told they talk to
_DATA_KEYS = ("elements", "quick_replies", "buttons", "attachment", "image", "custom")


def action_payload(name: str, tracker: Tracker, context: ActionContext) -> dict[str, Any]:
    """The request body Rasa sends to an action server's webhook."""
    return {
        "next_action": name,
        "sender_id": tracker.sender_id,
        "tracker": tracker.current_state(),
        "domain": domain_to_json(context.domain),
        "version": RASA_PROTOCOL_VERSION,
    }


def _response_message(item: dict[str, Any], tracker: Tracker, context: ActionContext) -> BotUttered:
    """One entry of a reply's `responses`: a domain response by name, or a literal message."""
    name = item.get("response") or item.get("template")
    if name:
        extra = {k: v for k, v in item.items() if k not in ("response", "template")}
        rendered = render_response(str(name), tracker, context.domain, context.channel, extra)
        if rendered is not None:
            for key in _DATA_KEYS:
                if item.get(key):
                    rendered.data[key] = item[key]
            return rendered
        logger.warning("Action server asked for response '%s', which the domain lacks.", name)
    data = {key: item.get(key) for key in _DATA_KEYS}
    return BotUttered(text=item.get("text"), data=data, metadata={})


def reply_events(
    name: str, reply: dict[str, Any], tracker: Tracker, context: ActionContext
) -> list[Event]:
    """Events of an action server reply: its messages first, then its events (as Rasa)."""
    if not isinstance(reply, dict):
        raise ActionFailed(name, f"the action server replied {type(reply).__name__}, not JSON")
    responses = reply.get("responses") or []
    messages = [_response_message(r, tracker, context) for r in responses if isinstance(r, dict)]
    try:
        events = events_from_dicts(list(reply.get("events") or []))
    except EventError as exc:
        raise ActionFailed(name, f"the action server sent a bad event: {exc}") from None
    return [*messages, *events]


async def run_custom(name: str, tracker: Tracker, context: ActionContext) -> list[Event]:
    """Run `name` through the configured runner; raises ActionFailed (ActionServerError from the
    runner) or ActionRejected."""
    if context.runner is None:
        raise ActionFailed(
            name,
            "it is a custom action and no action server is configured; "
            "set action_endpoint in endpoints.yml",
        )
    reply = await context.runner.run(name, action_payload(name, tracker, context))
    return reply_events(name, reply, tracker, context)


@dataclass
class RemoteAction:
    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        return await run_custom(self.name, tracker, context)
