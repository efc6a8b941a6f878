"""Facebook Messenger (Rasa's `facebook:` credentials): the verification handshake, signed
webhooks (X-Hub-Signature-256), replies through the Send API, and the handover protocol.

credentials.yml: `verify` (the verify token), `secret` (the app secret), `page-access-token`;
optional `graph_url` (default https://graph.facebook.com/v19.0) and `handover_app_id` (when a
conversation is handed to a human, its thread control passes to that app, e.g. the Page Inbox
263902037430900).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel, handoff_in_turn
from parley.server.errors import ApiError


class FacebookChannel(MessagingChannel):
    name = "facebook"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.verify_token = self.required("verify")
        self.secret = self.required("secret").encode()
        self.page_token = self.required("page-access-token")
        self.graph_url = str(settings.get("graph_url") or "https://graph.facebook.com/v19.0")
        self.handover_app_id = settings.get("handover_app_id") or None

    def verify(self, request: Request, body: bytes) -> None:
        header = request.headers.get("x-hub-signature-256")
        if header:
            expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        else:  # older apps sign with SHA-1 only (what Rasa checks)
            header = request.headers.get("x-hub-signature", "")
            expected = "sha1=" + hmac.new(self.secret, body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected, header):
            raise ApiError(403, "facebook: the request signature does not match")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        payload = json.loads(body)
        found: list[Inbound] = []
        for entry in payload.get("entry") or []:
            for event in entry.get("messaging") or []:
                sender = str(event["sender"]["id"])
                message = event.get("message") or {}
                if message.get("is_echo"):
                    continue
                if "postback" in event:
                    postback = event["postback"]
                    text = postback.get("payload") or postback.get("title") or ""
                    mid = postback.get("mid") or f"postback-{event.get('timestamp')}"
                elif message:
                    quick = message.get("quick_reply") or {}
                    text = quick.get("payload") or message.get("text") or ""
                    mid = message.get("mid")
                else:
                    continue  # reads, deliveries, handover notices
                if text and mid:
                    found.append(Inbound(sender, str(text), str(mid), reply_to={"id": sender}))
        return found

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        response = await self.http().post(
            f"{self.graph_url}/me/{path}", params={"access_token": self.page_token}, json=body
        )
        if response.status_code >= 400:
            raise RuntimeError(f"facebook {path} failed: {response.status_code} {response.text}")

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        recipient = {"id": inbound.reply_to["id"]}
        outgoing: list[dict[str, Any]] = []
        if isinstance(message.get("custom"), dict):
            outgoing.append(message["custom"])
        if message.get("image"):
            outgoing.append({"attachment": {"type": "image", "payload": {"url": message["image"]}}})
        buttons = message.get("buttons") or []
        if buttons:
            outgoing.append(
                {
                    "text": message.get("text") or "…",
                    "quick_replies": [
                        {
                            "content_type": "text",
                            "title": str(b.get("title"))[:20],
                            "payload": str(b.get("payload")),
                        }
                        for b in buttons[:13]
                    ],
                }
            )
        elif message.get("text"):
            outgoing.append({"text": message["text"]})
        for body in outgoing:
            await self._post(
                "messages", {"recipient": recipient, "message": body, "messaging_type": "RESPONSE"}
            )

    async def _process(self, inbound: Inbound) -> None:
        await super()._process(inbound)
        if self.handover_app_id is None:
            return
        if await handoff_in_turn(self.context, inbound) is not None:
            await self._post(
                "pass_thread_control",
                {
                    "recipient": {"id": inbound.reply_to["id"]},
                    "target_app_id": self.handover_app_id,
                    "metadata": "handed over by the assistant",
                },
            )

    def router(self) -> APIRouter:
        router = super().router()

        @router.get("/webhook", summary="Facebook's webhook verification handshake")
        async def handshake(request: Request) -> Response:
            query = request.query_params
            if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
                query.get("hub.verify_token", ""), self.verify_token
            ):
                return PlainTextResponse(query.get("hub.challenge", ""))
            raise ApiError(403, "facebook: wrong verify token")

        return router
