from __future__ import annotations

import json
import zlib

import httpx

from parley.sdk import Action, ActionExecutor
from parley.sdk.events import SlotSet
from parley.sdk.server import MAX_BODY_BYTES, create_app
from tests.action_runners.support import bank_request


class Echo(Action):
    def name(self) -> str:
        return "action_echo"

    def run(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return [SlotSet("sender", tracker.sender_id)]


def client() -> httpx.AsyncClient:
    executor = ActionExecutor()
    executor.register_action(Echo)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(executor)), base_url="http://a"
    )


async def test_deflated_request_from_rasa_is_understood() -> None:
    body = zlib.compress(json.dumps(bank_request("action_echo")).encode())
    answer = await client().post(
        "/webhook",
        content=body,
        headers={"Content-Encoding": "deflate", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["events"][0]["value"] == "alice"


async def test_invalid_bodies_are_400_not_500() -> None:
    api = client()
    assert (await api.post("/webhook", content=b"{not json")).status_code == 400
    assert (await api.post("/webhook", json={"sender_id": "x"})).status_code == 400
    bomb = zlib.compress(b" " * (MAX_BODY_BYTES + 1))
    answer = await api.post("/webhook", content=bomb, headers={"Content-Encoding": "deflate"})
    assert answer.status_code == 400
    assert "larger than" in answer.json()["error"]
    huge = {"Content-Length": str(MAX_BODY_BYTES + 1)}
    assert (await api.post("/webhook", content=b"{}", headers=huge)).status_code == 413


async def test_health_and_action_list() -> None:
    api = client()
    assert (await api.get("/health")).json() == {"status": "ok"}
    assert (await api.get("/actions")).json() == [{"name": "action_echo"}]
