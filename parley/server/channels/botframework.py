"""Microsoft Bot Framework, e.g. Teams (Rasa's `botframework:` credentials): activities POSTed by
the Bot Connector with a JWT signed by Microsoft; replies posted to the activity's serviceUrl
with an app token from the client-credentials flow, after the webhook has been answered.

credentials.yml: `app_id`, `app_password`; optional `openid_metadata_url` (default
https://login.botframework.com/v1/.well-known/openidconfiguration), `issuer` (default
https://api.botframework.com), `token_url` (default Microsoft's botframework.com tenant; a
single-tenant bot names its own tenant's token endpoint), `handoff_initiate` (true: when a turn
hands the conversation to a human, Bot Framework's handoff protocol event `handoff.initiate` is
sent, with the handoff's details and a transcript, for an agent hub such as Omnichannel).

Every request's token is checked: signature by a key of the OpenID configuration's JWKS,
issuer, audience = app_id, expiry, the `serviceUrl` claim equal to the activity's (so a token
cannot send the bot's credentials elsewhere) and, where the key lists endorsements, the channel.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from parley.dialogue.tracker import HANDOFF_KEY
from parley.server.channels.base import ChannelContext
from parley.server.channels.messaging import Inbound, MessagingChannel, json_object
from parley.server.channels.signing_keys import RemoteKeys, bearer_token, verify_jwt
from parley.server.errors import ApiError

OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ISSUER = "https://api.botframework.com"
TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
SCOPE = "https://api.botframework.com/.default"
HERO_CARD = "application/vnd.microsoft.card.hero"
TRANSCRIPT_TURNS = 50  # user and bot messages sent along with a handoff


def handoff_in_turn(events: list[Any], message_id: str) -> dict[str, Any] | None:
    """The handoff (pause metadata) that the turn of user message `message_id` made, if any."""
    for event in reversed(events):
        if event.type_name == "user" and event.message_id == message_id:
            return None
        if event.type_name == "pause" and event.metadata.get(HANDOFF_KEY):
            return dict(event.metadata)
    return None


def without_bot_mentions(activity: dict[str, Any]) -> str:
    """The activity's text without the mentions of the bot (Teams channels put
    `<at>Bot</at>` in front of what the user says to it)."""
    text = str(activity.get("text") or "")
    bot = (activity.get("recipient") or {}).get("id")
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        if (entity.get("mentioned") or {}).get("id") == bot and entity.get("text"):
            text = text.replace(str(entity["text"]), "")
    return text.strip()


class BotFrameworkChannel(MessagingChannel):
    name = "botframework"
    reply_in_background = True  # the connector waits 15 s at most

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.app_id = self.required("app_id")
        self.app_password = self.required("app_password")
        self.issuer = str(settings.get("issuer") or ISSUER)
        self.token_url = str(settings.get("token_url") or TOKEN_URL)
        self.keys = RemoteKeys(
            str(settings.get("openid_metadata_url") or OPENID_METADATA_URL),
            self.http,
            openid=True,
        )
        self._token: tuple[str, float] | None = None  # app token, expiry (monotonic)
        self.handoff_initiate = bool(settings.get("handoff_initiate", False))

    async def authenticate(self, request: Request, body: bytes) -> None:
        token = bearer_token(request.headers.get("authorization"), self.name)
        claims, key = await verify_jwt(
            token, self.keys, audience=self.app_id, issuers=[self.issuer], channel=self.name
        )
        try:
            activity = json_object(body)
        except ValueError:
            raise ApiError(400, "botframework: the activity is not JSON") from None
        service_url = str(activity.get("serviceUrl") or "")
        if claims.get("serviceUrl", service_url).rstrip("/") != service_url.rstrip("/"):
            raise ApiError(403, "botframework: the token was issued for another serviceUrl")
        endorsements = key.jwk.get("endorsements")
        if isinstance(endorsements, list) and activity.get("channelId") not in endorsements:
            raise ApiError(403, "botframework: the signing key does not endorse this channel")

    def parse(self, request: Request, body: bytes) -> list[Inbound]:
        activity = json_object(body)
        if activity.get("type") != "message":
            return []  # conversationUpdate, typing, invoke…: nothing the user said
        value = activity.get("value")
        text = without_bot_mentions(activity)
        if not text and isinstance(value, dict) and value.get("payload"):
            text = str(value["payload"])  # an Adaptive Card's Action.Submit
        metadata: dict[str, Any] = {}
        if activity.get("attachments"):
            metadata["attachments"] = activity["attachments"]  # as Rasa 3.6 does
        return [
            Inbound(
                sender_id=str(activity["from"]["id"]),
                text=str(text),
                message_id=str(activity["id"]),
                metadata=metadata,
                reply_to={
                    "service_url": str(activity["serviceUrl"]).rstrip("/"),
                    "conversation": activity["conversation"],
                    "bot": activity.get("recipient") or {},
                    "user": activity["from"],
                    "activity_id": activity["id"],
                },
            )
        ]

    async def _app_token(self, renew: bool = False) -> str:
        if self._token is not None and not renew and self._token[1] > time.monotonic():
            return self._token[0]
        response = await self.http().post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.app_password,
                "scope": SCOPE,
            },
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"botframework: no app token from {self.token_url}: "
                f"{response.status_code} {response.text}"
            )
        answer = response.json()
        lifetime = float(answer.get("expires_in", 3600)) - 60
        self._token = (str(answer["access_token"]), time.monotonic() + lifetime)
        return self._token[0]

    def activities(self, inbound: Inbound, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The activities one bot message becomes."""
        base = {
            "type": "message",
            "from": inbound.reply_to["bot"],
            "recipient": inbound.reply_to["user"],
            "conversation": inbound.reply_to["conversation"],
            "replyToId": inbound.reply_to["activity_id"],
        }
        attachments: list[dict[str, Any]] = []
        if message.get("buttons"):
            attachments.append(
                {
                    "contentType": HERO_CARD,
                    "content": {
                        "text": message.get("text") or "",
                        "buttons": [
                            {
                                "type": "imBack",
                                "title": str(b.get("title")),
                                "value": str(b.get("payload")),
                            }
                            for b in message["buttons"]
                        ],
                    },
                }
            )
        if message.get("image"):
            attachments.append(
                {"contentType": HERO_CARD, "content": {"images": [{"url": message["image"]}]}}
            )
        attachment = message.get("attachment")
        if isinstance(attachment, dict) and attachment.get("contentType"):
            attachments.append(attachment)
        text = message.get("text") if not message.get("buttons") else None
        if isinstance(attachment, str):
            text = "\n\n".join(t for t in (text, attachment) if t)
        out: list[dict[str, Any]] = []
        if text or attachments:
            activity = dict(base)
            if text:
                activity["text"] = text
            if attachments:
                activity["attachments"] = attachments
            out.append(activity)
        if isinstance(message.get("custom"), dict):  # an activity of the bot's own making
            out.append({**base, **message["custom"]})
        return out

    async def deliver(self, inbound: Inbound, message: dict[str, Any]) -> None:
        for activity in self.activities(inbound, message):
            await self._post(inbound, activity)

    async def _process(self, inbound: Inbound) -> None:
        await super()._process(inbound)
        if not self.handoff_initiate:
            return
        tracker = await self.context.holder.agent.get_tracker(inbound.sender_id)
        handoff = handoff_in_turn(list(tracker.events), inbound.message_id)
        if handoff is None:
            return
        transcript = [
            {
                "type": "message",
                "from": inbound.reply_to["user" if e.type_name == "user" else "bot"],
                "text": e.text,
                "timestamp": e.timestamp,
            }
            for e in tracker.events
            if e.type_name in ("user", "bot") and e.text
        ][-TRANSCRIPT_TURNS:]
        await self._post(
            inbound,
            {
                "type": "event",
                "name": "handoff.initiate",
                "from": inbound.reply_to["user"],
                "conversation": inbound.reply_to["conversation"],
                "replyToId": inbound.reply_to["activity_id"],
                "value": handoff,
                "attachments": [
                    {
                        "contentType": "application/json",
                        "name": "Transcript",
                        "content": {"activities": transcript},
                    }
                ],
            },
        )

    async def _post(self, inbound: Inbound, activity: dict[str, Any]) -> None:
        conversation = inbound.reply_to["conversation"]["id"]
        url = f"{inbound.reply_to['service_url']}/v3/conversations/{conversation}/activities"
        response = await self.http().post(
            url, json=activity, headers={"Authorization": f"Bearer {await self._app_token()}"}
        )
        if response.status_code in (401, 403):  # token revoked early: one fresh try
            token = await self._app_token(renew=True)
            response = await self.http().post(
                url, json=activity, headers={"Authorization": f"Bearer {token}"}
            )
        if response.status_code >= 400:
            raise RuntimeError(
                f"botframework: posting the reply failed: {response.status_code} {response.text}"
            )
