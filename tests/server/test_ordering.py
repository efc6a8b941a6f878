"""Messages of one conversation are handled strictly in order; conversations run in parallel.

A real custom action (parley.sdk, in-process runner) takes SLOW seconds, so overlap shows.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.action_runners.inprocess import InProcessActionRunner
from parley.agent import Agent
from parley.dialogue.part import DialoguePart
from parley.project import load_project
from parley.sdk import Action
from parley.sdk.executor import ActionExecutor
from parley.server import AgentHolder, ServerConfig, create_app
from parley.training import train_project
from tests.server.conftest import client_for

SLOW = 0.4
FILES = {
    "domain.yml": 'version: "3.1"\nintents: [slow]\nentities: [n]\nactions: [action_slow]\n',
    "config.yml": "language: en\npolicies:\n  - name: RulePolicy\n",
    "data/rules.yml": (
        'version: "3.1"\nrules:\n- rule: slow\n  steps:\n  - intent: slow\n'
        "  - action: action_slow\n"
    ),
}


class ActionSlow(Action):
    def name(self) -> str:
        return "action_slow"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        await asyncio.sleep(SLOW)
        entities = tracker.latest_message.get("entities", [])
        dispatcher.utter_message(text=f"done {entities[0]['value']}")
        return []


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slowbot")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return train_project(load_project(root), root / "models", parts=[DialoguePart()]).model


@pytest.fixture
def slow_client(slow_model: Path) -> httpx.AsyncClient:
    executor = ActionExecutor()
    executor.register_action(ActionSlow)
    agent = Agent.load(slow_model, action_runner=InProcessActionRunner(executor))
    return client_for(create_app(AgentHolder(agent, slow_model), ServerConfig(enable_api=True)))


async def _send(client: httpx.AsyncClient, sender: str, n: int) -> list[str]:
    reply = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": f'/slow{{"n": "{n}"}}'}
    )
    assert reply.status_code == 200
    return [m["text"] for m in reply.json()]


async def test_one_conversation_is_handled_in_arrival_order(slow_client: httpx.AsyncClient) -> None:
    async with slow_client as client:
        start = time.perf_counter()
        replies = await asyncio.gather(*[_send(client, "same", n) for n in range(4)])
        elapsed = time.perf_counter() - start
        tracker = (await client.get("/conversations/same/tracker")).json()
    assert replies == [[f"done {n}"] for n in range(4)]
    assert elapsed >= 4 * SLOW  # never two turns of one conversation at once
    turns = [
        e["text"] if e["event"] == "bot" else e["parse_data"]["entities"][0]["value"]
        for e in tracker["events"]
        if e["event"] in ("user", "bot")
    ]
    assert turns == ["0", "done 0", "1", "done 1", "2", "done 2", "3", "done 3"]


async def test_different_conversations_run_in_parallel(slow_client: httpx.AsyncClient) -> None:
    async with slow_client as client:
        start = time.perf_counter()
        replies = await asyncio.gather(*[_send(client, f"user-{n}", n) for n in range(4)])
        elapsed = time.perf_counter() - start
    assert replies == [[f"done {n}"] for n in range(4)]
    assert elapsed < 3 * SLOW  # one after another would take 4 x SLOW
