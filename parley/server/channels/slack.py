"""Slack (Rasa's `slack:` credentials): Events API webhook, signed requests, replies through the
Web API's chat.postMessage after the webhook has been answered (Slack retries after 3 s).

credentials.yml: `slack_token` (xoxb-…), `slack_signing_secret`, optional `slack_channel`
(replies go there instead of the message's channel), `use_threads`, `conversation_granularity`
(`sender`, `channel` or `thread`), `api_url` (default https://slack.com/api).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel
from parley.server.config import ServerConfigError
from parley.server.errors import ApiError

SIGNATURE_WINDOW_SECONDS = 300  # Slack's advice: older requests may be replays


class SlackChannel(MessagingChannel):
    name = "slack"
    reply_in_background = True

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.token = self.required("slack_token")
        self.signing_secret = self.required("slack_signing_secret").encode()
        self.channel = settings.get("slack_channel") or None
        self.use_threads = bool(settings.get("use_threads", False))
        self.granularity = str(settings.get("conversation_granularity") or "sender")
        if self.granularity not in ("sender", "channel", "thread"):
            raise ServerConfigError(
                "credentials.yml: slack.conversation_granularity must be sender, channel or thread"
            )
        self.api_url = str(settings.get("api_url") or "https://slack.com/api").rstrip("/")

    def verify(self, request: Request, body: bytes) -> None:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            raise ApiError(401, "slack: missing or bad X-Slack-Request-Timestamp") from None
        if age > SIGNATURE_WINDOW_SECONDS:
            raise ApiError(401, "slack: the request is too old (replayed?)")
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self.signing_secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise ApiError(401, "slack: the request signature does not match")

    def acknowledge(self, request: Request, body: bytes) -> Response | None:
        if request.headers.get("content-type", "").startswith("application/json"):
            payload = json.loads(body or b"{}")
            if payload.get("type") == "url_verification":
                return JSONResponse({"challenge": payload.get("challenge")})
        return None

    def _conversation(self, user: str, channel: str, thread: str | None) -> str:
        if self.granularity == "channel":
            return f"{user}_{channel}"
        if self.granularity == "thread" and thread:
            return f"{user}_{channel}_{thread}"
        return user

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self._interaction(json.loads(parse_qs(body.decode())["payload"][0]))
        payload = json.loads(body)
        event = payload.get("event") or {}
        if payload.get("type") != "event_callback" or event.get("type") not in (
            "message",
            "app_mention",
        ):
            return []
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return []  # the bot's own messages, edits, joins: not the user talking
        thread = event.get("thread_ts") or (event.get("ts") if self.use_threads else None)
        channel = str(event.get("channel"))
        return [
            Inbound(
                sender_id=self._conversation(str(event["user"]), channel, thread),
                text=str(event.get("text") or ""),
                message_id=str(event.get("client_msg_id") or payload.get("event_id")),
                metadata={
                    "slack": {
                        "channel": channel,
                        "ts": event.get("ts"),
                        "team": payload.get("team_id"),
                    }
                },
                reply_to={"channel": channel, "thread_ts": thread},
            )
        ]

    def _interaction(self, payload: dict[str, Any]) -> list[Inbound]:
        actions = payload.get("actions") or []
        if not actions:
            return []
        user = str((payload.get("user") or {}).get("id"))
        channel = str((payload.get("channel") or {}).get("id"))
        message = payload.get("message") or {}
        thread = message.get("thread_ts") or (message.get("ts") if self.use_threads else None)
        return [
            Inbound(
                sender_id=self._conversation(user, channel, thread),
                text=str(actions[0].get("value") or ""),
                message_id=str(actions[0].get("action_ts") or payload.get("trigger_id")),
                reply_to={"channel": channel, "thread_ts": thread},
            )
        ]

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        body: dict[str, Any] = {"channel": self.channel or inbound.reply_to.get("channel")}
        if inbound.reply_to.get("thread_ts"):
            body["thread_ts"] = inbound.reply_to["thread_ts"]
        blocks: list[dict[str, Any]] = []
        if message.get("text"):
            body["text"] = message["text"]
        if message.get("image"):
            blocks.append({"type": "image", "image_url": message["image"], "alt_text": "image"})
            body.setdefault("text", message["image"])
        if message.get("buttons"):
            if message.get("text"):
                blocks.insert(
                    0, {"type": "section", "text": {"type": "plain_text", "text": message["text"]}}
                )
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": str(b.get("title"))},
                            "value": str(b.get("payload")),
                        }
                        for b in message["buttons"]
                    ],
                }
            )
        if blocks:
            body["blocks"] = blocks
        if isinstance(message.get("custom"), dict):
            body.update(message["custom"])  # Slack's own message fields, passed through
        response = await self.http().post(
            f"{self.api_url}/chat.postMessage",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        answer = response.json() if response.content else {}
        if response.status_code >= 400 or not answer.get("ok", False):
            raise RuntimeError(f"slack chat.postMessage failed: {response.status_code} {answer}")
