"""Input that once stalled a worker or poisoned a conversation: long messages, bad events,
unusable conversation ids, broken Unicode, model paths outside the model folders. Each is a
clear 4xx that stores nothing, and the conversation goes on afterwards."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.agent import Agent
from parley.server import AgentHolder, ServerConfig, create_app
from tests.server.conftest import ServerFactory, client_for
from tests.server.helpdesk import GREETING, helpdesk_model

REST = "/webhooks/rest/webhook"


async def events_of(client: httpx.AsyncClient, conversation: str) -> list[dict[str, Any]]:
    reply = await client.get(
        f"/conversations/{conversation}/tracker", params={"include_events": "ALL"}
    )
    assert reply.status_code == 200
    events: list[dict[str, Any]] = reply.json()["events"]
    return events


async def still_talks(client: httpx.AsyncClient, conversation: str) -> None:
    reply = await client.post(REST, json={"sender": conversation, "message": "hi"})
    assert reply.status_code == 200, reply.text
    assert reply.json()[0]["text"].startswith(GREETING)


# -- 1. message length --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (REST, {"sender": "long", "message": "word " * 20}),
        ("/model/parse", {"text": "word " * 20}),
        ("/conversations/long/messages", {"text": "word " * 20, "sender": "user"}),
    ],
)
async def test_a_message_over_the_limit_is_refused_before_nlu(
    make_server: ServerFactory, path: str, body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(make_server(max_message_chars=50)) as client:
        with caplog.at_level(logging.WARNING):
            reply = await client.post(path, json=body)
        assert reply.status_code == 413
        assert reply.json()["reason"] == "MessageTooLong"
        assert "at most 50" in reply.json()["message"]
        assert "refused a message of 100 characters" in caplog.text
        assert await events_of(client, "long") == []
        await still_talks(client, "long")


async def test_the_callback_channel_refuses_a_long_message_at_once(agent: Agent) -> None:
    config = ServerConfig(
        credentials={"callback": {"url": "http://127.0.0.1:9/bot"}}, max_message_chars=10
    )
    async with client_for(create_app(AgentHolder(agent, None), config)) as client:
        reply = await client.post(
            "/webhooks/callback/webhook", json={"sender": "cb", "message": "x" * 11}
        )
    assert reply.status_code == 413
    assert await agent.tracker_store.load("cb") in (None, [])


async def test_a_lone_surrogate_is_a_400_on_parse(client: httpx.AsyncClient) -> None:
    raw = b'{"text": "\\ud800"}'
    reply = await client.post(
        "/model/parse", content=raw, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    assert "not valid Unicode" in reply.json()["message"]


@pytest.mark.parametrize(
    "raw",
    [
        # deeper than orjson writes (255 levels): it would fail only when stored
        b'{"sender": "md", "message": "hi", "metadata": {"deep": '
        + b"[" * 300
        + b"]" * 300
        + b"}}",
        b'{"sender": "md", "message": "hi", "metadata": {"deep": ' + b"[" * 40 + b"]" * 40 + b"}}",
    ],
)
async def test_metadata_the_stores_cannot_keep_is_a_400(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    reply = await client.post(REST, content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 400 and "metadata" in reply.json()["message"]
    assert await events_of(client, "md") == []
    await still_talks(client, "md")


async def test_input_channel_is_recorded_and_must_be_a_short_name(
    client: httpx.AsyncClient,
) -> None:
    body = {"sender": "ic", "message": "hi"}
    bad = await client.post(REST, json=body, params={"input_channel": "x" * 65})
    assert bad.status_code == 400 and "input_channel" in bad.json()["message"]
    good = await client.post(REST, json=body, params={"input_channel": "my_widget"})
    assert good.status_code == 200
    users = [e for e in await events_of(client, "ic") if e["event"] == "user"]
    assert [e["input_channel"] for e in users] == ["my_widget"]
    metrics = (await client.get("/metrics")).text
    assert 'parley_messages_total{channel="rest"}' in metrics and "my_widget" not in metrics


# -- 2. events ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"event": "user", "text": "hi", "parse_data": "greet"}, "parse_data"),
        ({"event": "user", "text": "hi", "parse_data": {"intent": ["greet"]}}, "parse_data"),
        ({"event": "action", "name": "action_not_in_domain"}, "name"),
        ({"event": "action", "name": 42}, "name"),
        ({"event": "slot", "name": "not_a_slot", "value": 1}, "name"),
        ({"event": "slot", "name": "username", "value": {"a": 1}}, "value"),
        ({"event": "reminder", "intent": "greet", "date_time": "soon"}, "date_time"),
    ],
)
async def test_a_bad_event_stores_nothing_of_its_request(
    client: httpx.AsyncClient, event: dict[str, Any], field: str
) -> None:
    before = await client.post(
        "/conversations/ev/tracker/events",
        json={"event": "slot", "name": "username", "value": "ada"},
    )
    assert before.status_code == 200
    stored = await events_of(client, "ev")
    good = {"event": "action", "name": "action_listen"}
    reply = await client.post("/conversations/ev/tracker/events", json=[good, event])
    assert reply.status_code == 400
    body = reply.json()
    assert body["details"] == {"index": 1, "field": field}
    assert body["message"].startswith(f"event 1, field '{field}'")
    assert await events_of(client, "ev") == stored  # all or nothing
    await still_talks(client, "ev")


async def test_a_timestamp_of_1e999_is_refused(client: httpx.AsyncClient) -> None:
    raw = b'{"event": "action", "name": "action_listen", "timestamp": 1e999}'
    reply = await client.post(
        "/conversations/ts/tracker/events",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400 and reply.json()["details"]["field"] == "timestamp"
    assert await events_of(client, "ts") == []


async def test_replacing_with_a_bad_event_keeps_the_old_events(client: httpx.AsyncClient) -> None:
    await still_talks(client, "rep")
    stored = await events_of(client, "rep")
    reply = await client.put(
        "/conversations/rep/tracker",
        json=[{"event": "restart"}, {"event": "user", "parse_data": []}],
    )
    assert reply.status_code == 400 and reply.json()["details"]["index"] == 1
    assert await events_of(client, "rep") == stored


async def test_a_message_with_bad_parse_data_is_refused(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/conversations/pd/messages",
        json={"text": "hi", "sender": "user", "parse_data": {"intent": "greet"}},
    )
    assert reply.status_code == 400
    assert await events_of(client, "pd") == []


async def test_a_conversation_with_a_bad_stored_event_goes_on(
    client: httpx.AsyncClient, agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    # As written by an older version, or by hand: the store holds what the API now refuses.
    await agent.tracker_store.append("poisoned", [{"event": "user", "parse_data": "x"}])
    with caplog.at_level(logging.ERROR):
        await still_talks(client, "poisoned")
        assert (await client.get("/conversations/poisoned/tracker")).status_code == 200
    assert "stored event 0 is left out" in caplog.text


# -- 3. conversation ids ----------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["a\x00b", "x" * 256, "new\nline", "\ud800"])
async def test_an_unusable_sender_id_is_a_400_on_the_rest_channel(
    client: httpx.AsyncClient, sender: str
) -> None:
    raw = json.dumps({"sender": sender, "message": "hi"}).encode()  # escapes: \u0000, \ud800
    reply = await client.post(REST, content=raw, headers={"content-type": "application/json"})
    assert reply.status_code == 400, reply.text
    message = reply.json()["message"]
    assert "'sender'" in message or "not valid JSON" in message  # orjson refuses \ud800 itself
    assert await events_of(client, "a") == []


@pytest.mark.parametrize("path", ["/conversations/a%00b/tracker", "/conversations/a%0Ab/predict"])
async def test_an_unusable_conversation_id_is_a_400_on_the_api(
    client: httpx.AsyncClient, path: str
) -> None:
    method = client.get if path.endswith("tracker") else client.post
    reply = await method(path)
    assert reply.status_code == 400
    assert "conversation id" in reply.json()["message"]


# -- 5. PUT /model ------------------------------------------------------------------------------


NEUTRAL = "Cannot load that model"


async def test_put_model_loads_only_from_the_model_folders(agent: Agent, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    archive = models / "m.tar.gz"
    shutil.copy(helpdesk_model(), archive)
    (models / "not-a-model.tar.gz").write_text("hello")
    outside = tmp_path / "outside.tar.gz"
    shutil.copy(helpdesk_model(), outside)

    def load(path: Path) -> Agent:
        return Agent.load(path)

    config = ServerConfig(enable_api=True, model_folders=(models,))
    server = create_app(AgentHolder(agent, None, load, release_delay=0), config)
    async with client_for(server) as client:
        refused = []
        for model_file in (
            str(outside),  # a model, but outside
            "/etc/shadow",  # exists, not readable or not a model
            "/nonexistent/model.tar.gz",
            str(models / "missing.tar.gz"),
            str(models / "not-a-model.tar.gz"),
            str(models / ".." / "outside.tar.gz"),
            "models/m\x00.tar.gz",
        ):
            reply = await client.put("/model", json={"model_file": model_file})
            refused.append((reply.status_code, reply.json()["message"]))
        assert {status for status, _ in refused} == {400}
        assert len({message for _, message in refused}) == 1  # nothing tells them apart
        assert refused[0][1].startswith(NEUTRAL)
        swapped = await client.put("/model", json={"model_file": str(archive)})
        assert swapped.status_code == 204
        assert (await client.get("/status")).json()["model_file"] == str(archive.resolve())
