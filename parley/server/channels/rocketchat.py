"""Rocket.Chat (Rasa's `rocketchat:` credentials): an outgoing-webhook integration or the
Omnichannel (Livechat) webhook POSTs here; replies go to the room through the REST API
(`chat.postMessage`) as the bot user, after the webhook has been answered.

credentials.yml: `user`, `password` (the bot user's login), `server_url` (e.g.
https://chat.example.com); optional `webhook_token` (the integration's token, sent in the
payload, or the Livechat webhook's secret token, sent in X-RocketChat-Livechat-Token: requests
without it are refused).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import Request

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel, add_attachment, json_object
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)
LIVECHAT_TOKEN_HEADER = "x-rocketchat-livechat-token"


class RocketChatChannel(MessagingChannel):
    name = "rocketchat"
    reply_in_background = True

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.user = self.required("user")
        self.password = self.required("password")
        self.server_url = self.required("server_url").rstrip("/")
        self.webhook_token = str(settings.get("webhook_token") or "") or None
        self._login: dict[str, str] | None = None
        if self.webhook_token is None:
            logger.warning(
                "rocketchat: no webhook_token in credentials.yml, so webhook requests cannot be "
                "verified; add the integration's token as webhook_token"
            )

    def verify(self, request: Request, body: bytes) -> None:
        if self.webhook_token is None:
            return
        given = request.headers.get(LIVECHAT_TOKEN_HEADER)
        if given is None:
            try:
                payload = json_object(body)
            except ValueError:
                raise ApiError(400, "rocketchat: the webhook payload is not JSON") from None
            given = str(payload.get("token") or "")
        if not hmac.compare_digest(given.encode(), self.webhook_token.encode()):
            raise ApiError(403, "rocketchat: wrong or missing webhook token")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        payload = json_object(body)
        if not payload:
            return []
        if "visitor" in payload or "messages" in payload:  # the Omnichannel webhook
            if payload.get("type", "Message") != "Message":
                return []  # LivechatSession (a closed chat's whole transcript), offline forms…
            room = str(payload["_id"])
            return [
                Inbound(room, str(m.get("msg") or ""), str(m["_id"]), reply_to={"room": room})
                for m in payload.get("messages") or []
                if m.get("username") != self.user and not m.get("agentId") and m.get("msg")
            ]
        if payload.get("user_name") == self.user or payload.get("bot"):
            return []  # the bot's own message
        room = str(payload["channel_id"])
        return [
            Inbound(
                room,
                str(payload.get("text") or ""),
                str(payload["message_id"]),
                metadata={"rocketchat": {"user_id": payload.get("user_id")}},
                reply_to={"room": room},
            )
        ]

    async def _auth_headers(self, renew: bool = False) -> dict[str, str]:
        if self._login is None or renew:
            response = await self.http().post(
                f"{self.server_url}/api/v1/login",
                json={"user": self.user, "password": self.password},
            )
            data = response.json().get("data") if response.content else None
            if response.status_code >= 400 or not isinstance(data, dict):
                raise RuntimeError(
                    f"rocketchat: login of {self.user} failed: {response.status_code} "
                    f"{response.text}"
                )
            self._login = {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}
        return self._login

    @staticmethod
    def post_body(room: str, message: dict[str, Any]) -> dict[str, Any] | None:
        """The chat.postMessage body for one bot message (None: nothing to post)."""
        if isinstance(message.get("custom"), dict):
            custom = dict(message["custom"])
            return custom if custom.get("channel") else {"roomId": room, **custom}
        attachments: list[dict[str, Any]] = []
        if message.get("buttons"):
            attachments.append(
                {
                    "actions": [
                        {
                            "type": "button",
                            "text": str(b.get("title")),
                            "msg": str(b.get("payload")),
                            "msg_in_chat_window": True,
                        }
                        for b in message["buttons"]
                    ]
                }
            )
        if message.get("image"):
            attachments.append({"image_url": message["image"], "collapsed": False})
        text = add_attachment(str(message.get("text") or ""), attachments, message)
        if not text and not attachments:
            return None
        body: dict[str, Any] = {"roomId": room, "text": text}
        if attachments:
            body["attachments"] = attachments
        return body

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        body = self.post_body(inbound.reply_to["room"], message)
        if body is None:
            return
        url = f"{self.server_url}/api/v1/chat.postMessage"
        response = await self.http().post(url, json=body, headers=await self._auth_headers())
        if response.status_code == 401:  # the login expired: log in again, once
            headers = await self._auth_headers(renew=True)
            response = await self.http().post(url, json=body, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(
                f"rocketchat: chat.postMessage failed: {response.status_code} {response.text}"
            )
