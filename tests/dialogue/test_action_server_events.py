"""Events an action server returns are checked like the HTTP API's: a reply with an event the
engine cannot apply fails that action (an ERROR line) and stores none of its events."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.server.helpdesk import GREETING, helpdesk_agent


class ActionServer:
    """Speaks the action-server protocol in-process: its reply is the one given."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.reply

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    "events",
    [
        [
            {"event": "slot", "name": "username", "value": "ada"},
            {"event": "user", "parse_data": "x"},
        ],
        [{"event": "bot", "text": "hi", "data": {"n": float("inf")}}],
        "not a list",
    ],
)
async def test_a_bad_event_from_an_action_server_fails_the_action_and_stores_nothing(
    events: Any, caplog: pytest.LogCaptureFixture
) -> None:
    agent = helpdesk_agent(action_runner=ActionServer({"events": events, "responses": []}))
    with caplog.at_level(logging.ERROR):
        await agent.execute_action("srv", "action_reset_password")
    assert "action_reset_password" in caplog.text
    tracker = await agent.get_tracker("srv")
    assert not [e for e in tracker.events if e.type_name in ("slot", "user")]
    bots = [e for e in tracker.events if e.type_name == "bot"]  # the failed action's apology
    assert [b.metadata.get("utter_action") for b in bots] == ["utter_default"]
    replies = await agent.handle_message("srv", "hi")
    assert replies[0]["text"].startswith(GREETING)


async def test_unknown_event_types_from_an_action_server_are_kept() -> None:
    flow = {"event": "flow_started", "flow_id": "x"}
    agent = helpdesk_agent(action_runner=ActionServer({"events": [flow], "responses": []}))
    await agent.execute_action("srv2", "action_reset_password")
    stored = await agent.tracker_store.load("srv2")
    assert any(e.get("event") == "flow_started" for e in stored or [])
