"""What the messaging-platform connectors share (Slack, Telegram, Twilio, Facebook, …).

A connector verifies each webhook request as its platform signs it (401/403 otherwise), reads the
platform's payload into user messages, and hands each to the agent once: a platform retrying a
webhook gets its message skipped, by the platform's message id, here and on any replica (the
conversation's own events are checked under its lock). Replies go out through the platform's
API; platforms that want a quick answer (Slack: 3 s) get their 200 first and the replies after.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from parley.server.channels.base import ChannelContext, InputChannel
from parley.server.config import ServerConfigError
from parley.server.errors import ApiError

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

RECENT_IDS = 10_000  # per process: a retry that reaches the same replica is dropped at once


@dataclass(frozen=True)
class Inbound:
    """One user message read from a platform's webhook."""

    sender_id: str
    text: str
    message_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    reply_to: dict[str, Any] = field(default_factory=dict)  # where replies go (chat, thread…)


class MessagingChannel(InputChannel):
    """A platform connector: subclasses verify, parse and send."""

    reply_in_background = False  # answer the webhook first, then process and reply

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self._client: httpx.AsyncClient | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()
        # where each sender was last answered: a reminder or external event goes there too
        self._last_inbound: OrderedDict[str, Inbound] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what a platform defines ---------------------------------------------------------------

    def verify(self, request: Request, body: bytes) -> None:
        """Raise ApiError(401/403) unless the request is signed as the platform signs it."""
        raise NotImplementedError

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        raise NotImplementedError

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        """Post one bot message (Rasa's REST shape) to the platform."""
        raise NotImplementedError

    async def authenticate(self, request: Request, body: bytes) -> None:
        """As `verify`, for platforms whose check needs I/O (signing keys fetched by URL)."""
        self.verify(request, body)

    def acknowledge(self, request: Request, body: bytes) -> Response | None:
        """A response the platform expects instead of the plain 200 (e.g. a URL check)."""
        return None

    def ok(self) -> Response:
        return Response(status_code=200)

    # -- shared -----------------------------------------------------------------------------

    def required(self, key: str) -> str:
        value = self.settings.get(key)
        if value in (None, ""):
            raise ServerConfigError(f"credentials.yml: channel '{self.name}' needs `{key}`")
        return str(value)

    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=float(self.settings.get("timeout", 10)))
        return self._client

    def _seen(self, message_id: str) -> bool:
        if message_id in self._recent:
            return True
        self._recent[message_id] = None
        if len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)
        return False

    async def send(self, sender_id: str, messages: list[dict[str, Any]]) -> bool:
        """Push messages the user did not ask for (a fired reminder, an external event) to
        where this replica last answered the sender; False when it never did."""
        inbound = self._last_inbound.get(sender_id)
        if inbound is None:
            return False
        for message in messages:
            await self.deliver(inbound, message)
        return True

    def _remember(self, inbound: Inbound) -> None:
        self._last_inbound[inbound.sender_id] = inbound
        self._last_inbound.move_to_end(inbound.sender_id)
        if len(self._last_inbound) > RECENT_IDS:
            self._last_inbound.popitem(last=False)

    async def _process(self, inbound: Inbound) -> None:
        self._remember(inbound)
        messages = await self.context.handle_once(
            self.name, inbound.sender_id, inbound.text, inbound.metadata, inbound.message_id
        )
        for message in messages:
            await self.deliver(inbound, message)

    async def _process_logged(self, inbound: Inbound) -> None:
        try:
            await self._process(inbound)
        except Exception:
            logger.exception(
                "%s: could not handle or answer message %s", self.name, inbound.message_id
            )

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        await self.authenticate(request, body)
        answer = self.acknowledge(request, body)
        if answer is not None:
            return answer
        try:
            inbound = self.parse(request, body)
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(400, f"{self.name}: the webhook payload cannot be read: {exc}") from None
        fresh = [m for m in inbound if not self._seen(f"{m.sender_id}\0{m.message_id}")]
        if self.reply_in_background:
            for message in fresh:
                task = asyncio.create_task(self._process_logged(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        else:
            for message in fresh:
                await self._process(message)
        return self.ok()

    def router(self) -> APIRouter:
        router = APIRouter(prefix=self.url_prefix, tags=["channels"])

        @router.get("/", summary=f"{self.name} channel health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        router.add_api_route(
            "/webhook",
            self.webhook,
            methods=["POST"],
            summary=f"Webhook of the {self.name} platform (signed requests only)",
        )
        return router

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


HANDOFF_KEY = "handoff_to_human"  # metadata key of the pause event a handoff creates


async def handoff_in_turn(context: ChannelContext, inbound: Inbound) -> dict[str, Any] | None:
    """The handoff's details when the turn of `inbound` handed the conversation to a human
    (its pause event comes after this message); None otherwise. Decided from the stored
    events, so a platform's handoff call is made once, whichever replica gets later messages."""
    tracker = await context.holder.agent_for(inbound.sender_id).get_tracker(inbound.sender_id)
    found: dict[str, Any] | None = None
    for event in reversed(tracker.events):  # newest first: stop at the message's turn
        if getattr(event, "message_id", None) == inbound.message_id:
            return found
        if found is None and event.type_name == "pause" and event.metadata.get(HANDOFF_KEY):
            found = dict(event.metadata)
    return None


def button_lines(message: dict[str, Any]) -> str:
    """Buttons as numbered text, for platforms without buttons (SMS)."""
    buttons = message.get("buttons") or []
    return "\n".join(f"{i}: {b.get('title')}" for i, b in enumerate(buttons, start=1))


def add_attachment(text: str, attachments: list[dict[str, Any]], message: dict[str, Any]) -> str:
    """Rasa's `attachment`: an object joins the platform's `attachments` (in place), anything
    else is added to the text; returns the text."""
    attachment = message.get("attachment")
    if isinstance(attachment, dict):
        attachments.append(attachment)
    elif attachment:
        text = "\n".join(p for p in (text, str(attachment)) if p)
    return text


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (empty body: {}); ValueError otherwise (a 400 in `webhook`)."""
    payload = json.loads(body or b"{}")
    if not isinstance(payload, dict):
        raise ValueError("the payload must be a JSON object")
    return payload
