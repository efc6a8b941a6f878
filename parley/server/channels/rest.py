"""The REST channel: POST /webhooks/rest/webhook `{sender, message, metadata}` -> bot messages.

The reply is the list of the bot's messages in Rasa's REST shape (`recipient_id`, `text`,
`buttons`, `image`, `custom`, `attachment`). This is the hot path of the load benchmark, so the
body is parsed and checked by hand rather than through a pydantic model, and the route is
also served through `fastpath.FastRoutes`.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import APIRouter, Request, Response

from parley.server.channels.base import (
    BOT_MESSAGES_SCHEMA,
    USER_MESSAGE_SCHEMA,
    InputChannel,
    parse_user_body,
)
from parley.server.errors import ApiError
from parley.server.fastpath import FastRoute

logger = logging.getLogger(__name__)

_JSON = "application/json"
MAX_CHANNEL_NAME = 64  # `?input_channel=`, recorded on the user event


async def read_json(request: Request) -> object:
    """The request body as JSON; ApiError(400) with the parser's message when it is not."""
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None


class RestChannel(InputChannel):
    name = "rest"

    async def webhook(self, request: Request) -> Response:
        """One user message in, the bot's messages out."""
        try:
            sender, text, metadata = parse_user_body(await read_json(request))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        input_channel = request.query_params.get("input_channel") or None
        if input_channel is not None and (
            len(input_channel) > MAX_CHANNEL_NAME or not input_channel.isprintable()
        ):
            raise ApiError(
                400, f"'input_channel' must be at most {MAX_CHANNEL_NAME} printable characters"
            )
        # the metrics count under this channel's name: a caller cannot add label values
        messages = await self.context.handle(self.name, sender, text, metadata, input_channel)
        return Response(orjson.dumps(messages, default=str), media_type=_JSON)

    def fast_routes(self) -> list[FastRoute]:
        return [FastRoute("POST", f"{self.url_prefix}/webhook", self.webhook)]

    def router(self) -> APIRouter:
        router = APIRouter(prefix=self.url_prefix, tags=["channels"])

        @router.get("/", summary="REST channel health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.post(
            "/webhook",
            summary="Send a user message, receive the bot's messages",
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": USER_MESSAGE_SCHEMA}},
                },
                "responses": {
                    "200": {
                        "description": "The bot's messages",
                        "content": {_JSON: {"schema": BOT_MESSAGES_SCHEMA}},
                    },
                    "400": {"description": "Malformed body"},
                },
            },
        )
        async def webhook(request: Request) -> Response:
            return await self.webhook(request)

        return router
