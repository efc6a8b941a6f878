"""Mattermost (Rasa's `mattermost:` credentials): an outgoing webhook (trigger word `@yourbot`)
and interactive-button actions POST here; replies are posts made with the bot's token through
the REST API (`POST {url}/posts`), after the webhook has been answered.

credentials.yml: `url` (the API, e.g. https://chat.example.com/api/v4), `token` (the bot
account's access token), `webhook_url` (this webhook's public URL: buttons call it back);
optional `webhook_token` (the outgoing webhook's token: Mattermost sends it in each request and
other requests are refused; buttons then carry an HMAC of their payload made with it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import (
    Inbound,
    MessagingChannel,
    add_attachment,
    button_lines,
    json_object,
)
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)


def _payload(request: Request, body: bytes) -> dict[str, Any]:
    """Outgoing webhooks post JSON or a form (as set in Mattermost); button actions JSON."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    return json_object(body)


class MattermostChannel(MessagingChannel):
    name = "mattermost"
    reply_in_background = True

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.api_url = self.required("url").rstrip("/")
        self.token = self.required("token")
        self.webhook_url = str(settings.get("webhook_url") or "") or None
        webhook_token = str(settings.get("webhook_token") or "")
        self.webhook_token = webhook_token.encode() if webhook_token else None
        if self.webhook_token is None:
            logger.warning(
                "mattermost: no webhook_token in credentials.yml, so webhook requests cannot be "
                "verified; add the outgoing webhook's token as webhook_token"
            )

    def _signature(self, action: str) -> str:
        assert self.webhook_token is not None
        return hmac.new(self.webhook_token, action.encode(), hashlib.sha256).hexdigest()

    def verify(self, request: Request, body: bytes) -> None:
        if self.webhook_token is None:
            return
        try:
            payload = _payload(request, body)
        except ValueError:
            raise ApiError(400, "mattermost: the webhook payload cannot be read") from None
        context = payload.get("context")
        if isinstance(context, dict):  # a button of ours, signed when it was posted
            given = str(context.get("signature") or "")
            expected = self._signature(str(context.get("action") or ""))
        else:
            given, expected = str(payload.get("token") or ""), self.webhook_token.decode()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(403, "mattermost: wrong or missing webhook token")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        payload = _payload(request, body)
        user, channel = str(payload["user_id"]), str(payload["channel_id"])
        context = payload.get("context")
        if isinstance(context, dict):
            action = str(context.get("action") or "")
            click = payload.get("trigger_id") or f"{payload.get('post_id')}:{user}:{action}"
            return [Inbound(user, action, str(click), reply_to={"channel_id": channel})]
        text = str(payload.get("text") or "")
        trigger = str(payload.get("trigger_word") or "")
        if trigger and text.startswith(trigger):
            text = text[len(trigger) :].strip()  # "@bot how do I…" -> "how do I…"
        return [
            Inbound(
                user,
                text,
                str(payload["post_id"]),
                metadata={"mattermost": {"channel_id": channel, "team_id": payload.get("team_id")}},
                reply_to={"channel_id": channel},
            )
        ]

    def ok(self) -> Response:
        return JSONResponse({})  # an outgoing webhook's answer without text posts nothing

    def post_body(self, channel_id: str, message: dict[str, Any]) -> dict[str, Any] | None:
        """The `/posts` body for one bot message (None: nothing to post)."""
        if isinstance(message.get("custom"), dict):
            return {"channel_id": channel_id, "message": "", **message["custom"]}
        text = str(message.get("text") or "")
        attachments: list[dict[str, Any]] = []
        buttons = message.get("buttons") or []
        if buttons and self.webhook_url:
            actions = []
            for i, button in enumerate(buttons):
                action = str(button.get("payload"))
                context = {"action": action}
                if self.webhook_token is not None:
                    context["signature"] = self._signature(action)
                actions.append(
                    {
                        "id": f"button{i}",
                        "name": str(button.get("title")),
                        "integration": {"url": self.webhook_url, "context": context},
                    }
                )
            attachments.append({"actions": actions})
        elif buttons:  # no webhook_url to call back: the choices as text
            text = "\n".join(p for p in (text, button_lines(message)) if p)
        if message.get("image"):
            attachments.append({"image_url": message["image"]})
        text = add_attachment(text, attachments, message)
        if not text and not attachments:
            return None
        body: dict[str, Any] = {"channel_id": channel_id, "message": text}
        if attachments:
            body["props"] = {"attachments": attachments}
        return body

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        body = self.post_body(inbound.reply_to["channel_id"], message)
        if body is None:
            return
        response = await self.http().post(
            f"{self.api_url}/posts", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"mattermost: posting failed: {response.status_code} {response.text}"
            )
