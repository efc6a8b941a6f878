"""Collects the messages an action sends to the user; they become the reply's `responses`."""

from __future__ import annotations

from typing import Any


class CollectingDispatcher:
    """`dispatcher.utter_message(...)` as in rasa_sdk; the messages have the same JSON shape."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def utter_message(
        self,
        text: str | None = None,
        image: str | None = None,
        json_message: dict[str, Any] | None = None,
        response: str | None = None,
        attachment: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        """Send a message: literal text/image/buttons/custom JSON, or a domain `response`.

        Extra keyword arguments fill `{placeholders}` of the response's text.
        """
        response = response or kwargs.pop("template", None)
        message: dict[str, Any] = {
            "text": text,
            "buttons": buttons or [],
            "elements": elements or [],
            "custom": json_message or {},
            "template": response,
            "response": response,
            "image": image,
            "attachment": attachment,
        }
        message.update(kwargs)
        self.messages.append(message)
