"""Telegram (Rasa's `telegram:` credentials): bot webhook updates; replies through the Bot API.

credentials.yml: `access_token`, `verify` (the bot's name), `webhook_url`; optional
`secret_token` (set it when registering the webhook: Telegram then sends it in
X-Telegram-Bot-Api-Secret-Token and other requests are refused), `api_url` (default
https://api.telegram.org).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import Request

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"


class TelegramChannel(MessagingChannel):
    name = "telegram"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.token = self.required("access_token")
        self.secret = str(settings.get("secret_token") or "") or None
        self.api_url = str(settings.get("api_url") or "https://api.telegram.org").rstrip("/")
        if self.secret is None:
            logger.warning(
                "telegram: no secret_token in credentials.yml, so webhook requests cannot be "
                "verified; register the webhook with a secret_token and add it here"
            )

    def verify(self, request: Request, body: bytes) -> None:
        if self.secret is None:
            return
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise ApiError(403, "telegram: wrong or missing secret token")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        update = json.loads(body)
        update_id = str(update["update_id"])
        if "callback_query" in update:  # a button
            query = update["callback_query"]
            chat = (query.get("message") or {}).get("chat") or query.get("from") or {}
            return [
                Inbound(
                    str(chat["id"]),
                    str(query.get("data") or ""),
                    update_id,
                    reply_to={"chat_id": chat["id"], "callback_query_id": query.get("id")},
                )
            ]
        message = update.get("message")
        if not message or "text" not in message:
            return []  # edits, stickers, joins: nothing to answer
        chat_id = message["chat"]["id"]
        return [
            Inbound(
                str(chat_id),
                str(message["text"]),
                update_id,
                metadata={
                    "telegram": {"chat_id": chat_id, "message_id": message.get("message_id")}
                },
                reply_to={"chat_id": chat_id},
            )
        ]

    async def _call(self, method: str, body: dict[str, Any]) -> None:
        response = await self.http().post(f"{self.api_url}/bot{self.token}/{method}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"telegram {method} failed: {response.status_code} {response.text}")

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        chat_id = inbound.reply_to["chat_id"]
        if inbound.reply_to.get("callback_query_id"):
            await self._call(
                "answerCallbackQuery", {"callback_query_id": inbound.reply_to["callback_query_id"]}
            )
            inbound.reply_to.pop("callback_query_id")
        if isinstance(message.get("custom"), dict):
            await self._call("sendMessage", {"chat_id": chat_id, **message["custom"]})
            return
        if message.get("image"):
            await self._call("sendPhoto", {"chat_id": chat_id, "photo": message["image"]})
        if message.get("text") or message.get("buttons"):
            body: dict[str, Any] = {"chat_id": chat_id, "text": message.get("text") or "…"}
            if message.get("buttons"):
                body["reply_markup"] = {
                    "inline_keyboard": [
                        [{"text": str(b.get("title")), "callback_data": str(b.get("payload"))}]
                        for b in message["buttons"]
                    ]
                }
            await self._call("sendMessage", body)
