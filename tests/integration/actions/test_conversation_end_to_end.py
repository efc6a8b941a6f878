"""A Parley conversation with a form and custom actions, run by three kinds of action server.

The real rasa-sdk process, a `parley run actions` process and the in-process runner must
lead to the same tracker events and bot messages; a dead action server must give the user
the domain's `utter_action_failed` answer at once.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from parley.action_runners import create_action_runner
from parley.agent import Agent
from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.model import DialogueModel
from parley.project import load_project
from tests.action_runners.support import BANKBOT, FIXTURES, parley_copy_of_bank_actions
from tests.integration.actions.processes import parley_actions_server, rasa_sdk_server
from tests.ports import free_port

pytestmark = pytest.mark.integration

CONVERSATION = [
    "/greet",
    '/check_balance{"account": "Savings"}',
    '/check_balance{"account": "pension"}',
    "/transfer_money",
    '/inform{"amount": "lots"}',
    '/inform{"amount": "2500"}',
    '/inform{"recipient": "carol"}',
    "/affirm",
]

EXPECTED_TEXTS = [
    ["Hello! I can check your balance or send money."],
    ["Your savings balance is 120.50 EUR (rest)."],
    [
        "I only know checking and savings, not pension.",
        "Your checking balance is 120.50 EUR (rest).",
    ],
    ["How much do you want to send?"],
    ["'lots' is not an amount I can send.", "How much do you want to send?"],
    ["Who should receive it?"],
    ["That is a large transfer. Are you sure?"],
    ["Sent 2500.0 EUR to Carol.", "Anything else?"],
]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bankbot_model")
    DialogueModel.train(load_project(BANKBOT)).persist(folder)
    return folder


@pytest.fixture(scope="module")
def actions_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("bankbot_actions")
    shutil.copy(FIXTURES / "bank_actions.py", folder / "bank_actions.py")
    parley_copy_of_bank_actions(folder, "bank_actions_parley")
    yield folder
    sys.modules.pop("bank_actions_parley", None)
    if str(folder) in sys.path:
        sys.path.remove(str(folder))


@asynccontextmanager
async def agent_with(model_folder: Path, runner: CustomActionRunner) -> AsyncIterator[Agent]:
    try:
        yield Agent(DialogueModel.load(model_folder), action_runner=runner)
    finally:
        await runner.close()


def http_runner(url: str, **settings: Any) -> CustomActionRunner:
    runner = create_action_runner({"action_endpoint": {"url": url, **settings}})
    assert runner is not None
    return runner


async def converse(agent: Agent) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    replies = [
        await agent.handle_message("alice", text, input_channel="rest") for text in CONVERSATION
    ]
    tracker = await agent.get_tracker("alice")
    return replies, [_comparable(e.as_dict()) for e in tracker.events]


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs run to run (time, ids, model id)."""
    drop = {"timestamp", "metadata", "message_id"}
    out = {k: v for k, v in event.items() if k not in drop}
    if isinstance(out.get("parse_data"), dict):
        out["parse_data"] = {k: v for k, v in out["parse_data"].items() if k not in drop}
    return out


async def test_same_conversation_with_rasa_sdk_parley_server_and_in_process(
    model_folder: Path, actions_folder: Path
) -> None:
    results = {}
    with rasa_sdk_server(actions_folder, "bank_actions") as url:
        async with agent_with(model_folder, http_runner(f"{url}/webhook")) as agent:
            results["rasa_sdk"] = await converse(agent)
    with parley_actions_server(actions_folder, "bank_actions_parley") as url:
        async with agent_with(model_folder, http_runner(f"{url}/webhook")) as agent:
            results["parley run actions"] = await converse(agent)
    runner = create_action_runner(
        {"action_endpoint": {"actions_module": "bank_actions_parley"}}, actions_folder
    )
    assert runner is not None
    async with agent_with(model_folder, runner) as agent:
        results["in-process"] = await converse(agent)

    replies, events = results["rasa_sdk"]
    assert [[m.get("text") for m in reply] for reply in replies] == EXPECTED_TEXTS
    assert replies[-1][1]["buttons"] == [{"title": "No", "payload": "/deny"}]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["last_recipient"] == "Carol"
    account_values = [e["value"] for e in events if e.get("name") == "account"]
    assert account_values[:2] == ["savings", None]  # validated values replace the extracted
    assert {"event": "reset_slots"} in events
    for name, (other_replies, other_events) in results.items():
        assert other_replies == replies, name
        assert other_events == events, name


async def test_dead_action_server_gets_users_a_clear_answer_within_a_second(
    model_folder: Path,
) -> None:
    runner = http_runner(
        f"http://127.0.0.1:{free_port()}/webhook",
        circuit_breaker={"failure_threshold": 2, "reset_timeout": 30},
    )
    async with agent_with(model_folder, runner) as agent:
        for turn in range(4):
            started = time.monotonic()
            reply = await agent.handle_message(
                f"user{turn}", "/check_balance", input_channel="rest"
            )
            assert time.monotonic() - started < 1.0
            assert [m.get("text") for m in reply] == [
                "Sorry, I cannot do that right now. Please try again later."
            ]
        tracker = await agent.get_tracker("user3")
        assert "circuit" not in str(tracker.latest_action_name)
        errors = [
            e.as_dict()["metadata"]["error"]
            for e in tracker.events
            if e.as_dict()["event"] == "action_execution_rejected"
        ]
        assert "not calling it for another" in errors[0]  # the circuit was open: no wait at all
