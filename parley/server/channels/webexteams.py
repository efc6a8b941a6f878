"""Cisco Webex (Rasa's `webexteams:` credentials): webhooks for `messages` (and
`attachmentActions`, the buttons' Adaptive Cards) POST here signed with X-Spark-Signature; the
message itself is fetched with the bot's token, and replies are posted to the room, after the
webhook has been answered.

credentials.yml: `access_token` (the bot's), optional `room` (replies go there instead of the
message's room), `webhook_secret` (the secret the webhooks were created with: requests whose
X-Spark-Signature, HMAC-SHA1 of the body, does not match are refused), `api_url` (default
https://webexapis.com/v1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from typing import Any

from fastapi import Request

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel, add_attachment, json_object
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def spark_signature(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha1).hexdigest()


class WebexTeamsChannel(MessagingChannel):
    name = "webexteams"
    reply_in_background = True

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.token = self.required("access_token")
        self.room = str(settings.get("room") or "") or None
        secret = str(settings.get("webhook_secret") or "")
        self.secret = secret.encode() if secret else None
        self.api_url = str(settings.get("api_url") or "https://webexapis.com/v1").rstrip("/")
        self._me: str | None = None
        if self.secret is None:
            logger.warning(
                "webexteams: no webhook_secret in credentials.yml, so webhook requests cannot "
                "be verified; create the webhooks with a secret and add it here"
            )

    def verify(self, request: Request, body: bytes) -> None:
        if self.secret is None:
            return
        given = request.headers.get("x-spark-signature", "")
        if not hmac.compare_digest(spark_signature(self.secret, body), given.lower()):
            raise ApiError(403, "webexteams: the X-Spark-Signature does not match")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        notice = json_object(body)
        if notice.get("event") != "created" or notice.get("resource") not in (
            "messages",
            "attachmentActions",
        ):
            return []
        data = notice["data"]
        return [
            Inbound(
                str(data["personId"]),
                "",  # fetched before it is handled: webhooks carry ids only
                str(data["id"]),
                metadata={"webexteams": {"room_id": data.get("roomId")}},
                reply_to={"room": self.room or data["roomId"], "resource": notice["resource"]},
            )
        ]

    async def _get(self, path: str) -> dict[str, Any]:
        response = await self.http().get(
            f"{self.api_url}/{path}", headers={"Authorization": f"Bearer {self.token}"}
        )
        if response.status_code >= 400:
            raise RuntimeError(f"webexteams GET {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    async def _process(self, inbound: Inbound) -> None:
        if self._me is None:
            self._me = str((await self._get("people/me"))["id"])
        if inbound.sender_id == self._me:
            return  # the bot's own message: answering it would loop
        if inbound.reply_to["resource"] == "attachmentActions":
            inputs = (await self._get(f"attachment/actions/{inbound.message_id}")).get("inputs")
            text = str((inputs or {}).get("payload") or "")
        else:
            text = str((await self._get(f"messages/{inbound.message_id}")).get("text") or "")
        if text:
            await super()._process(dataclasses.replace(inbound, text=text))

    @staticmethod
    def messages(room: str, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The `POST /messages` bodies for one bot message (one file or card per message)."""
        if isinstance(message.get("custom"), dict):
            return [{"roomId": room, **message["custom"]}]
        cards: list[dict[str, Any]] = []
        text = add_attachment(str(message.get("text") or ""), cards, message)
        out: list[dict[str, Any]] = []
        if message.get("buttons"):
            card = {
                "type": "AdaptiveCard",
                "version": "1.2",
                "body": [{"type": "TextBlock", "text": text, "wrap": True}],
                "actions": [
                    {
                        "type": "Action.Submit",
                        "title": str(b.get("title")),
                        "data": {"payload": str(b.get("payload"))},
                    }
                    for b in message["buttons"]
                ],
            }
            cards.insert(0, {"contentType": ADAPTIVE_CARD, "content": card})
        if cards:
            out += [{"roomId": room, "markdown": text or "…", "attachments": [c]} for c in cards]
        elif text:
            out.append({"roomId": room, "markdown": text})
        if message.get("image"):
            out.append({"roomId": room, "files": [message["image"]]})
        return out

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        for body in self.messages(inbound.reply_to["room"], message):
            response = await self.http().post(
                f"{self.api_url}/messages",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
            if response.status_code >= 400:
                raise RuntimeError(
                    f"webexteams: posting a message failed: {response.status_code} {response.text}"
                )
