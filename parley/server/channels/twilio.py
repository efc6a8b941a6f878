"""Twilio SMS and WhatsApp (Rasa's `twilio:` credentials): form-encoded webhooks signed with
X-Twilio-Signature; replies through the Messages API.

credentials.yml: `account_sid`, `auth_token`, `twilio_number`; optional `webhook_url` (the public
URL Twilio calls, when a proxy changes it: the signature covers it), `api_url` (default
https://api.twilio.com); for handoff to Twilio Flex, `flex_workspace_sid` and `flex_workflow_sid`
(and `flex_api_url`, default https://flex-api.twilio.com): a turn that hands the conversation to a
human creates a Flex interaction (Interactions API) that routes the customer to an agent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import (
    HANDOFF_KEY,
    Inbound,
    MessagingChannel,
    button_lines,
    handoff_in_turn,
)
from parley.server.errors import ApiError

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WHATSAPP = "whatsapp:"


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's request signature: the URL, then each POST parameter's name and value in name
    order, HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioChannel(MessagingChannel):
    name = "twilio"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.account_sid = self.required("account_sid")
        self.auth_token = self.required("auth_token")
        self.number = self.required("twilio_number")
        self.webhook_url = settings.get("webhook_url") or None
        self.api_url = str(settings.get("api_url") or "https://api.twilio.com").rstrip("/")
        self.flex_workspace = settings.get("flex_workspace_sid") or None
        self.flex_workflow = settings.get("flex_workflow_sid") or None
        self.flex_api_url = str(settings.get("flex_api_url") or "https://flex-api.twilio.com")

    def verify(self, request: Request, body: bytes) -> None:
        url = str(self.webhook_url or request.url)
        params = parse_qsl(body.decode(), keep_blank_values=True)
        expected = twilio_signature(self.auth_token, url, params)
        given = request.headers.get("x-twilio-signature", "")
        if not hmac.compare_digest(expected, given):
            raise ApiError(403, "twilio: the request signature does not match")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        sender = form["From"]
        text = form.get("ButtonPayload") or form.get("Body") or ""
        return [
            Inbound(
                sender,
                text,
                form["MessageSid"],
                metadata={"twilio": {"to": form.get("To"), "media": form.get("MediaUrl0")}},
                reply_to={"to": sender},
            )
        ]

    async def _process(self, inbound: Inbound) -> None:
        await super()._process(inbound)
        if self.flex_workspace is None or self.flex_workflow is None:
            return
        handoff = await handoff_in_turn(self.context, inbound)
        if handoff is not None:
            await self._hand_to_flex(inbound, handoff)

    async def _hand_to_flex(self, inbound: Inbound, handoff: dict[str, Any]) -> None:
        """A Flex interaction for the customer: TaskRouter offers it to an agent."""
        customer = inbound.reply_to["to"]
        whatsapp = customer.startswith(WHATSAPP)
        number = self.number
        if whatsapp and not number.startswith(WHATSAPP):
            number = WHATSAPP + number
        kind = "whatsapp" if whatsapp else "sms"
        channel = {
            "type": kind,
            "initiated_by": "api",
            "participants": [{"address": customer, "proxy_address": number}],
        }
        routing = {
            "properties": {
                "workspace_sid": self.flex_workspace,
                "workflow_sid": self.flex_workflow,
                "task_channel_unique_name": kind,
                "attributes": {
                    "from": customer,
                    "customerAddress": customer,
                    "parley_conversation_id": inbound.sender_id,
                    "parley_handoff": handoff.get(HANDOFF_KEY),
                },
            }
        }
        response = await self.http().post(
            f"{self.flex_api_url.rstrip('/')}/v1/Interactions",
            data={"Channel": json.dumps(channel), "Routing": json.dumps(routing)},
            auth=(self.account_sid, self.auth_token),
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"twilio Flex interaction failed: {response.status_code} {response.text}"
            )

    def ok(self) -> Response:
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        to = inbound.reply_to["to"]
        sender = self.number
        if to.startswith(WHATSAPP) and not sender.startswith(WHATSAPP):
            sender = WHATSAPP + sender
        text = "\n".join(p for p in (message.get("text"), button_lines(message)) if p)
        form: dict[str, Any] = {"From": sender, "To": to}
        if text:
            form["Body"] = text
        if message.get("image"):
            form["MediaUrl"] = message["image"]
        if isinstance(message.get("custom"), dict):
            form.update(message["custom"])
        if len(form) == 2:
            return
        response = await self.http().post(
            f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
            data=form,
            auth=(self.account_sid, self.auth_token),
        )
        if response.status_code >= 400:
            raise RuntimeError(f"twilio Messages failed: {response.status_code} {response.text}")
