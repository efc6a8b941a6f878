"""Google Chat, formerly Hangouts Chat (Rasa's `hangouts:` credentials): events POSTed with a
bearer JWT signed by Google; the bot's messages are the webhook's answer (as Rasa does: one
message, texts joined, cards combined).

credentials.yml: `project_id` (the Google Cloud project number: the token's audience; without it
requests cannot be verified, as in Rasa); optional `certs_url` (Google's signing certificates,
default https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com;
a JWKS works too), `issuer` (default chat@system.gserviceaccount.com; apps whose audience is
their endpoint URL get ID tokens from https://accounts.google.com, keys at
https://www.googleapis.com/oauth2/v3/certs, and then the token's verified `email` must be
chat@system.gserviceaccount.com).

Conversations are keyed by the user's resource name (`users/…`), which is unique, where Rasa used
the display name. Being added to a space sends `/user_added` (direct message) or `/room_added`,
being removed `/bot_removed`; a card button sends its `actionMethodName`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import (
    RECENT_IDS,
    Inbound,
    MessagingChannel,
    add_attachment,
    json_object,
)
from parley.server.channels.signing_keys import RemoteKeys, bearer_token, verify_jwt
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)
CERTS_URL = (
    "https://www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"
)
ISSUER = "chat@system.gserviceaccount.com"
USER_ADDED, ROOM_ADDED, BOT_REMOVED = "/user_added", "/room_added", "/bot_removed"


def _text_card(text: str) -> dict[str, Any]:
    return {"sections": [{"widgets": [{"textParagraph": {"text": text}}]}]}


def chat_message(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The bot's messages as one Google Chat message: texts joined while there are only texts;
    once a card (buttons, image, custom `cards`) appears, every part is a card, in order."""
    texts: list[str] = []
    cards: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}  # other fields of custom payloads (cardsV2, actionResponse…)
    for message in messages:
        parts: list[dict[str, Any]] = []
        text = add_attachment(str(message.get("text") or ""), parts, message)
        widgets: list[dict[str, Any]] = []
        if message.get("buttons"):
            widgets = [{"textParagraph": {"text": text}}] if text else []
            widgets.append(
                {
                    "buttons": [
                        {
                            "textButton": {
                                "text": str(b.get("title")),
                                "onClick": {"action": {"actionMethodName": str(b.get("payload"))}},
                            }
                        }
                        for b in message["buttons"]
                    ]
                }
            )
            parts.insert(0, {"sections": [{"widgets": widgets}]})
        elif text:
            parts.insert(0, {"text": text})
        if message.get("image"):
            parts.append({"sections": [{"widgets": [{"image": {"imageUrl": message["image"]}}]}]})
        custom = message.get("custom")
        if isinstance(custom, dict):
            extra.update({k: v for k, v in custom.items() if k not in ("text", "cards")})
            if custom.get("text"):
                parts.append({"text": str(custom["text"])})
            parts += [c for c in custom.get("cards") or [] if isinstance(c, dict)]
        for part in parts:
            if "text" in part and not cards:
                texts.append(part["text"])
            elif "text" in part:
                cards.append(_text_card(part["text"]))
            else:
                if not cards:
                    cards.extend(_text_card(t) for t in texts)
                cards.append(part)
    if cards:
        return {"cards": cards, **extra}
    return {"text": "\n".join(texts), **extra} if texts else extra


class HangoutsChannel(MessagingChannel):
    name = "hangouts"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.project_id = str(settings.get("project_id") or "") or None
        self.issuer = str(settings.get("issuer") or ISSUER)
        self.keys = RemoteKeys(str(settings.get("certs_url") or CERTS_URL), self.http)
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        if self.project_id is None:
            logger.warning(
                "hangouts: no project_id in credentials.yml, so requests cannot be verified; "
                "add the Google Cloud project number as project_id"
            )

    async def authenticate(self, request: Request, body: bytes) -> None:
        if self.project_id is None:
            return
        token = bearer_token(request.headers.get("authorization"), self.name)
        claims, _ = await verify_jwt(
            token, self.keys, audience=self.project_id, issuers=[self.issuer], channel=self.name
        )
        if self.issuer != ISSUER and not (
            claims.get("email") == ISSUER and claims.get("email_verified") is True
        ):  # an ID token from accounts.google.com: any Google account could mint one
            raise ApiError(401, f"hangouts: the token was not issued to {ISSUER}")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        event = json_object(body)
        kind = event.get("type")
        space = event.get("space") or {}
        message = event.get("message") or {}
        user = event.get("user") or message.get("sender") or {}
        room = space.get("displayName") if space.get("type") == "ROOM" else None
        when = event.get("eventTime")
        if kind == "MESSAGE" or (kind == "ADDED_TO_SPACE" and message):
            text = message.get("argumentText") or message.get("text") or ""
            event_id = str(message["name"])
        elif kind == "CARD_CLICKED":
            text = (event.get("action") or {}).get("actionMethodName") or ""
            event_id = f"{message.get('name')}/click/{when}"
        elif kind == "ADDED_TO_SPACE":
            text = ROOM_ADDED if room else USER_ADDED
            event_id = f"added/{space.get('name')}/{when}"
        elif kind == "REMOVED_FROM_SPACE":
            text, event_id = BOT_REMOVED, f"removed/{space.get('name')}/{when}"
        else:
            return []
        return [
            Inbound(
                str(user["name"]),
                str(text).strip(),
                event_id,
                metadata={"room": room, "space": space.get("name")},
            )
        ]

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        raise NotImplementedError("hangouts answers in the webhook's response")

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        await self.authenticate(request, body)
        try:
            found = self.parse(request, body)
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(400, f"hangouts: the event cannot be read: {exc}") from None
        if not found:
            return JSONResponse({})
        inbound = found[0]
        key = f"{inbound.sender_id}\0{inbound.message_id}"
        if key in self._answers:  # Google retrying on this replica: the same answer again
            return JSONResponse(self._answers[key])
        messages = await self.context.handle_once(
            self.name, inbound.sender_id, inbound.text, inbound.metadata, inbound.message_id
        )
        answer = chat_message(messages)
        self._answers[key] = answer
        if len(self._answers) > RECENT_IDS // 10:
            self._answers.popitem(last=False)
        return JSONResponse(answer)
