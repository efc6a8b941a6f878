"""Every HTTP API route, with auth off (open) and good and bad input."""

from __future__ import annotations

import httpx
import pytest

from parley.agent import Agent
from tests.server.conftest import ServerFactory, client_for


async def test_root_and_version_name_parley(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code == 200 and root.text.startswith("Hello from Parley")
    version = (await client.get("/version")).json()
    assert set(version) == {"version", "minimum_compatible_version"}


async def test_health_live_and_ready(client: httpx.AsyncClient, agent: Agent) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["model_id"] == agent.model_id


async def test_status_names_the_model(client: httpx.AsyncClient, agent: Agent) -> None:
    status = (await client.get("/status")).json()
    assert status["model_id"] == agent.model_id
    assert status["num_active_training_jobs"] == 0


async def test_parse_returns_intent(client: httpx.AsyncClient) -> None:
    reply = await client.post("/model/parse", json={"text": "hi"})
    assert reply.status_code == 200
    assert reply.json()["intent"]["name"] == "greet"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"message": "no text field"}', "text"),
        (b'{"text": 5}', "text"),
        (b"[]", "Invalid request"),
    ],
)
async def test_parse_rejects_bad_bodies_with_400(
    client: httpx.AsyncClient, body: bytes, fragment: str
) -> None:
    reply = await client.post(
        "/model/parse", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    error = reply.json()
    assert error["status"] == "failure" and error["code"] == 400
    assert fragment in error["message"]


async def test_tracker_after_a_message_holds_its_events(client: httpx.AsyncClient) -> None:
    await client.post("/webhooks/rest/webhook", json={"sender": "ann", "message": "hi"})
    tracker = (await client.get("/conversations/ann/tracker")).json()
    assert tracker["sender_id"] == "ann"
    kinds = [e["event"] for e in tracker["events"]]
    assert kinds.index("user") < kinds.index("bot")
    assert tracker["latest_message"]["intent"]["name"] == "greet"


async def test_tracker_rejects_unknown_verbosity(client: httpx.AsyncClient) -> None:
    reply = await client.get("/conversations/ann/tracker", params={"include_events": "SOME"})
    assert reply.status_code == 400


async def test_put_tracker_replaces_events(client: httpx.AsyncClient) -> None:
    await client.post("/webhooks/rest/webhook", json={"sender": "bo", "message": "hi"})
    events = [{"event": "user", "text": "replaced", "timestamp": 1.0}]
    reply = await client.put("/conversations/bo/tracker", json=events)
    assert reply.status_code == 200
    assert [e.get("text") for e in reply.json()["events"]] == ["replaced"]


async def test_append_one_event_or_a_list(client: httpx.AsyncClient) -> None:
    one = await client.post(
        "/conversations/cy/tracker/events",
        json={"event": "slot", "name": "username", "value": "ada"},
    )
    assert one.status_code == 200
    many = await client.post(
        "/conversations/cy/tracker/events",
        json=[{"event": "action", "name": "action_listen"}, {"event": "restart"}],
        params={"include_events": "ALL"},
    )
    assert [e["event"] for e in many.json()["events"]] == ["slot", "action", "restart"]
    after_restart = (await client.get("/conversations/cy/tracker")).json()
    assert after_restart["events"] == []
    none = await client.get("/conversations/cy/tracker", params={"include_events": "NONE"})
    assert none.json()["events"] is None


@pytest.mark.parametrize(
    "body",
    [{"name": "no event key"}, [{"event": ""}], "text", {"event": "not_an_event_type"}],
)
async def test_append_rejects_malformed_events(client: httpx.AsyncClient, body: object) -> None:
    reply = await client.post("/conversations/cy/tracker/events", json=body)
    assert reply.status_code == 400
    assert reply.json()["message"]


async def test_add_message_stores_a_user_event(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/conversations/dee/messages", json={"text": "hello", "sender": "user"}
    )
    assert reply.status_code == 200
    user = reply.json()["events"][-1]
    assert user["event"] == "user" and user["parse_data"]["intent"]["name"] == "greet"


async def test_add_message_refuses_a_bot_sender(client: httpx.AsyncClient) -> None:
    reply = await client.post("/conversations/dee/messages", json={"text": "x", "sender": "bot"})
    assert reply.status_code == 400


async def test_execute_returns_tracker_and_messages(client: httpx.AsyncClient) -> None:
    reply = await client.post("/conversations/ed/execute", json={"name": "utter_greet"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["tracker"]["sender_id"] == "ed" and isinstance(body["messages"], list)


async def test_execute_unknown_action_is_400(client: httpx.AsyncClient) -> None:
    reply = await client.post("/conversations/ed/execute", json={"name": "no_such_action"})
    assert reply.status_code == 400 and "no_such_action" in reply.json()["message"]
    intent = await client.post("/conversations/ed/trigger_intent", json={"name": "no_such"})
    assert intent.status_code == 404


async def test_trigger_intent_returns_messages(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/conversations/fay/trigger_intent", json={"name": "greet", "entities": {"name": "Fay"}}
    )
    assert reply.status_code == 200 and "messages" in reply.json()
    bad = await client.post("/conversations/fay/trigger_intent", json={"entities": {}})
    assert bad.status_code == 400


async def test_predict_scores_actions(client: httpx.AsyncClient) -> None:
    body = (await client.post("/conversations/gus/predict")).json()
    assert body["scores"][0]["action"] and "tracker" in body


async def test_replace_model_needs_a_loadable_file(client: httpx.AsyncClient) -> None:
    missing = await client.put("/model", json={"model_file": "/nonexistent/model.tar.gz"})
    assert missing.status_code == 400
    empty = await client.put("/model", json={})
    assert empty.status_code == 400
    remote = await client.put("/model", json={"model_server": {"url": "http://127.0.0.1:1"}})
    assert remote.status_code == 400


async def test_handoff_release_is_under_admin(client: httpx.AsyncClient) -> None:
    reply = await client.post("/admin/conversations/hal/handoff/release")
    assert reply.status_code == 200 and reply.json()["sender_id"] == "hal"


async def test_api_routes_are_absent_without_enable_api(make_server: ServerFactory) -> None:
    from parley.server import ServerConfig

    async with client_for(make_server(ServerConfig(enable_api=False))) as c:
        assert (await c.get("/status")).status_code == 404
        assert (await c.post("/model/parse", json={"text": "hi"})).status_code == 404
        assert (await c.get("/health/live")).status_code == 200
        hook = await c.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hi"})
        assert hook.status_code == 200


async def test_conversation_id_longer_than_255_is_400(client: httpx.AsyncClient) -> None:
    reply = await client.get(f"/conversations/{'x' * 256}/tracker")
    assert reply.status_code == 400


async def test_handoff_pauses_the_bot_until_an_admin_releases_it(
    client: httpx.AsyncClient,
) -> None:
    async def say(text: str) -> list[str]:
        reply = await client.post("/webhooks/rest/webhook", json={"sender": "hu", "message": text})
        return [m.get("text", "") for m in reply.json()]

    assert await say("/human_handoff")  # the bot announces the handoff
    assert await say("hi") == []  # a person answers now, not the bot
    released = await client.post("/admin/conversations/hu/handoff/release")
    assert released.status_code == 200 and released.json()["paused"] is False
    assert (await say("hi"))[0].startswith("Hi!")
    metrics = (await client.get("/metrics")).text
    assert "parley_handoffs_total 1.0" in metrics
    assert "parley_handoff_releases_total 1.0" in metrics
