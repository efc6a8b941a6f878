"""Input channels, found by their `credentials.yml` names."""

from __future__ import annotations

import logging
from typing import Any

from parley.server.channels.base import ChannelContext, InputChannel
from parley.server.channels.botframework import BotFrameworkChannel
from parley.server.channels.callback import CallbackChannel
from parley.server.channels.facebook import FacebookChannel
from parley.server.channels.hangouts import HangoutsChannel
from parley.server.channels.mattermost import MattermostChannel
from parley.server.channels.rest import RestChannel
from parley.server.channels.rocketchat import RocketChatChannel
from parley.server.channels.slack import SlackChannel
from parley.server.channels.socketio import SocketIOChannel
from parley.server.channels.telegram import TelegramChannel
from parley.server.channels.twilio import TwilioChannel
from parley.server.channels.webexteams import WebexTeamsChannel

logger = logging.getLogger(__name__)

CHANNELS: dict[str, type[InputChannel]] = {
    "rest": RestChannel,
    "callback": CallbackChannel,
    "socketio": SocketIOChannel,
    "slack": SlackChannel,
    "telegram": TelegramChannel,
    "twilio": TwilioChannel,
    "facebook": FacebookChannel,
    "botframework": BotFrameworkChannel,
    "mattermost": MattermostChannel,
    "rocketchat": RocketChatChannel,
    "webexteams": WebexTeamsChannel,
    "hangouts": HangoutsChannel,
}
# Rasa's class paths, as some credentials.yml files name their channels.
_ALIASES = {
    "rasa.core.channels.rest.RestInput": "rest",
    "rasa.core.channels.callback.CallbackInput": "callback",
    "rasa.core.channels.socketio.SocketIOInput": "socketio",
    "rasa.core.channels.slack.SlackInput": "slack",
    "rasa.core.channels.telegram.TelegramInput": "telegram",
    "rasa.core.channels.twilio.TwilioInput": "twilio",
    "rasa.core.channels.facebook.FacebookInput": "facebook",
    "rasa.core.channels.botframework.BotFrameworkInput": "botframework",
    "rasa.core.channels.mattermost.MattermostInput": "mattermost",
    "rasa.core.channels.rocketchat.RocketChatInput": "rocketchat",
    "rasa.core.channels.webexteams.WebexTeamsInput": "webexteams",
    "rasa.core.channels.hangouts.HangoutsInput": "hangouts",
}


def build_channels(
    settings_by_name: dict[str, dict[str, Any]], context: ChannelContext
) -> list[InputChannel]:
    """The channels credentials.yml asks for; unknown ones are skipped with a warning."""
    channels: list[InputChannel] = []
    for name, settings in settings_by_name.items():
        cls = CHANNELS.get(_ALIASES.get(name, name))
        if cls is None:
            logger.warning(
                "credentials.yml names channel '%s', which Parley does not support yet; "
                "it is not served (supported: %s)",
                name,
                ", ".join(sorted(CHANNELS)),
            )
            continue
        channels.append(cls(settings, context))
    return channels


class ChannelOutbound:
    """Sends messages nobody asked for (fired reminders, external events) through the channel
    of that name; REST and unknown channels cannot push and drop them, as Rasa's do."""

    def __init__(self, channels: list[InputChannel]) -> None:
        self.by_name = {channel.name: channel for channel in channels}

    async def __call__(
        self, sender_id: str, channel_name: str | None, messages: list[dict[str, Any]]
    ) -> bool:
        channel = self.by_name.get(channel_name or "")
        try:
            sent = channel is not None and await channel.send(sender_id, messages)
        except Exception:
            logger.exception("could not send %d bot message(s) to %s", len(messages), sender_id)
            return False
        if not sent:
            logger.info(
                "%d bot message(s) for %s not delivered: channel %r cannot push messages",
                len(messages), sender_id, channel_name,
            )  # fmt: skip
        return bool(sent)


def attach_outbound(agent: object, outbound: ChannelOutbound) -> None:
    """Let `agent` (parley.agent.Agent, or a stand-in without the attribute) push messages."""
    if hasattr(agent, "outbound"):
        agent.outbound = outbound


__all__ = [
    "CHANNELS",
    "ChannelContext",
    "ChannelOutbound",
    "InputChannel",
    "attach_outbound",
    "build_channels",
]
