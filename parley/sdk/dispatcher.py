"""Collects the messages an action sends to the user; they become the reply's `responses`."""

from __future__ import annotations

from typing import Any


class CollectingDispatcher:
    """`dispatcher.utter_message(...)` as in rasa_sdk; the messages have the same JSON shape."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._chunks: list[dict[str, Any]] = []
        self._streaming = False

    @property
    def is_streaming_active(self) -> bool:
        return self._streaming

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

    # rasa_sdk's streaming API; over the webhook the chunks become one message each at the end

    async def stream_start(self) -> None:
        self._chunks = []
        self._streaming = True

    async def stream_chunk(
        self,
        text: str | None = None,
        image: str | None = None,
        json_message: dict[str, Any] | None = None,
        attachment: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        """One piece of a streamed answer (a domain `response` cannot be streamed)."""
        if {"template", "response"} & kwargs.keys():
            raise ValueError(
                "stream_chunk() takes content, not a response name; use utter_message()"
            )
        chunk: dict[str, Any] = {
            key: value
            for key, value in (("text", text), ("image", image), ("attachment", attachment))
            if value is not None
        }
        for key, value in (("custom", json_message), ("buttons", buttons), ("elements", elements)):
            if value:
                chunk[key] = value
        chunk.update(kwargs)
        if not self._streaming:
            await self.stream_start()
        self._chunks.append(chunk)

    async def stream_end(self) -> None:
        for chunk in self._chunks:
            self.utter_message(**chunk)
        self._chunks = []
        self._streaming = False
