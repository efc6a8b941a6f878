"""The callback channel: POST /webhooks/callback/webhook answers at once; the bot's messages
are POSTed one by one to the `url` from credentials.yml (Rasa's callback channel)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from parley.server.channels.base import (
    USER_MESSAGE_SCHEMA,
    ChannelContext,
    InputChannel,
    parse_user_body,
)
from parley.server.channels.rest import read_json
from parley.server.config import ServerConfigError
from parley.server.errors import ApiError

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)


class CallbackChannel(InputChannel):
    name = "callback"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        url = settings.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ServerConfigError(
                "credentials.yml: channel 'callback' needs `url: http(s)://...` "
                "where the bot's messages are posted"
            )
        self.url = url
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # imported by the servers that configure this channel

            self._client = httpx.AsyncClient(timeout=float(self.settings.get("timeout", 10)))
        return self._client

    async def _deliver(self, sender: str, text: str, metadata: dict[str, Any] | None) -> None:
        try:
            await self.send(sender, await self.context.handle(self.name, sender, text, metadata))
        except Exception:
            logger.exception("callback channel: could not handle or deliver a message")

    async def send(self, sender_id: str, messages: list[dict[str, Any]]) -> bool:
        for message in messages:
            response = await self._http().post(self.url, json=message)
            if response.status_code >= 400:
                logger.warning("callback url answered %d to a bot message", response.status_code)
        return True

    def router(self) -> APIRouter:
        router = APIRouter(prefix=self.url_prefix, tags=["channels"])

        @router.get("/", summary="Callback channel health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.post(
            "/webhook",
            summary="Send a user message; the bot's messages go to the callback url",
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": USER_MESSAGE_SCHEMA}},
                }
            },
        )
        async def webhook(request: Request) -> Response:
            try:
                sender, text, metadata = parse_user_body(await read_json(request))
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            # refused now: the reply is sent at once, the bot's messages later
            self.context.check_message(self.name, text, metadata)
            task = asyncio.create_task(self._deliver(sender, text, metadata))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Response("success", media_type="text/plain")

        return router

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._client is not None:
            await self._client.aclose()
