from __future__ import annotations

import pytest

from parley.sdk import Action, ActionExecutor, CollectingDispatcher
from tests.action_runners.support import bank_request


def test_message_has_rasa_sdk_shape() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(response="utter_greet", name="Ann")
    dispatcher.utter_message(text="hi", json_message={"a": 1})
    assert dispatcher.messages[0] == {
        "text": None,
        "buttons": [],
        "elements": [],
        "custom": {},
        "template": "utter_greet",
        "response": "utter_greet",
        "image": None,
        "attachment": None,
        "name": "Ann",
    }
    assert dispatcher.messages[1]["custom"] == {"a": 1}


class Streaming(Action):
    def name(self) -> str:
        return "action_stream"

    async def run(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        await dispatcher.stream_start()
        for token in ("Hel", "lo"):
            await dispatcher.stream_chunk(text=token)
        await dispatcher.stream_end()
        await dispatcher.stream_chunk(text="left open", buttons=[{"title": "ok"}])
        return []


async def test_streamed_chunks_become_messages_over_the_webhook() -> None:
    executor = ActionExecutor()
    executor.register_action(Streaming)
    reply = await executor.run(bank_request("action_stream"))
    assert [m["text"] for m in reply["responses"]] == ["Hel", "lo", "left open"]
    assert reply["responses"][2]["buttons"] == [{"title": "ok"}]


async def test_a_response_name_cannot_be_streamed() -> None:
    with pytest.raises(ValueError, match="utter_message"):
        await CollectingDispatcher().stream_chunk(response="utter_greet")
