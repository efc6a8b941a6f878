"""What every input channel shares: how it is built from credentials and what it serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import APIRouter
from starlette.types import ASGIApp

from parley.dialogue.event_checks import json_problem
from parley.ids import MAX_SENDER_ID, SENDER_ID_PATTERN, sender_id_problem
from parley.server.config import ServerConfig
from parley.server.errors import ApiError
from parley.server.fastpath import FastRoute
from parley.server.inputs import check_text
from parley.server.metrics import ServerMetrics
from parley.server.runtime import AgentHolder, ServedAgent


@dataclass(frozen=True)
class ChannelContext:
    """What a channel needs to hand messages to the agent and count them."""

    holder: AgentHolder
    metrics: ServerMetrics
    config: ServerConfig

    async def handle(
        self,
        channel: str,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None,
        input_channel: str | None = None,
        agent: ServedAgent | None = None,
    ) -> list[dict[str, Any]]:
        """Run one user message through the agent in service; return the bot's messages.

        `channel` labels the metrics; `input_channel` (the channel's by default) is recorded on
        the user event; `agent` answers instead of the one serving the sender (a guest link's
        pinned model version). Raises ApiError(413/400) for a message that is too long, not valid
        Unicode, or whose metadata cannot be stored."""
        self.check_message(channel, text, metadata)
        self.metrics.messages.labels(channel=channel).inc()
        agent = agent or self.holder.agent_for(sender_id)
        messages = await agent.handle_message(
            sender_id, text, metadata=metadata, input_channel=input_channel or channel
        )
        self.metrics.bot_messages.labels(channel=channel).inc(len(messages))
        return messages

    def check_message(
        self, channel: str, text: str, metadata: dict[str, Any] | None = None
    ) -> None:
        """ApiError(413) for a message over `max_message_chars`, ApiError(400) for text that
        is not valid Unicode or metadata the stores cannot keep (numbers beyond 64 bits, ...):
        refused before NLU runs (its time grows with the length)."""
        check_text(text, self.config.max_message_chars, f"channel {channel}")
        if metadata and (problem := json_problem(metadata)):
            raise ApiError(400, f"'metadata' {problem}")

    async def handle_once(
        self,
        channel: str,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None,
        message_id: str,
    ) -> list[dict[str, Any]]:
        """As `handle`, for a platform message with its own id: a retry of a message the
        conversation already holds is not processed again (no messages are returned)."""
        self.check_message(channel, text, metadata)
        self.metrics.messages.labels(channel=channel).inc()
        messages = await self.holder.agent_for(sender_id).handle_message(
            sender_id,
            text,
            metadata=metadata,
            input_channel=channel,
            message_id=message_id,
            once=True,
        )
        self.metrics.bot_messages.labels(channel=channel).inc(len(messages))
        return messages


class InputChannel:
    """A channel: HTTP routes under `/webhooks/<name>/`, optionally an ASGI wrapper
    (socket.io), and resources to release on shutdown. Subclasses set `name`."""

    name: ClassVar[str]

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        self.settings = settings
        self.context = context

    @property
    def url_prefix(self) -> str:
        return f"/webhooks/{self.name}"

    def router(self) -> APIRouter | None:
        return None

    def fast_routes(self) -> list[FastRoute]:
        """Hot routes to serve ahead of FastAPI's router (see `parley.server.fastpath`)."""
        return []

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return app

    async def send(self, sender_id: str, messages: list[dict[str, Any]]) -> bool:
        """Push bot messages the user did not ask for (a fired reminder, an external event);
        False when the channel can only answer requests (REST, as in Rasa)."""
        return False

    async def close(self) -> None:
        return None


def parse_user_body(body: Any) -> tuple[str, str, dict[str, Any] | None]:
    """`{sender, message, metadata}` -> (sender_id, text, metadata); ValueError says what's wrong."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object with 'sender' and 'message'")
    text = body.get("message")
    if not isinstance(text, str):
        raise ValueError("'message' must be a string (the user's text)")
    sender = body.get("sender", "default")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        raise ValueError("'sender' must be a string (the conversation id)")
    sender = str(sender)
    problem = sender_id_problem(sender)
    if problem is not None:
        raise ValueError(f"'sender' (the conversation id) {problem}")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError("'metadata' must be a JSON object when given")
    return sender, text, metadata


USER_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "sender": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SENDER_ID,
            "pattern": SENDER_ID_PATTERN,
            "default": "default",
        },
        "message": {"type": "string"},
        "metadata": {"type": "object"},
    },
}

BOT_MESSAGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "recipient_id": {"type": "string"},
            "text": {"type": "string"},
            "buttons": {"type": "array", "items": {"type": "object"}},
            "image": {"type": "string"},
            "custom": {},
            "attachment": {},
        },
    },
}
