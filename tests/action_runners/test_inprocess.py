from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.action_runners import (
    ActionNotRegistered,
    ActionRejected,
    ActionServerError,
    ActionTimeout,
    InProcessActionRunner,
    create_action_runner,
)
from tests.action_runners.support import bank_request, parley_copy_of_bank_actions


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[InProcessActionRunner]:
    module = parley_copy_of_bank_actions(tmp_path, "inprocess_bank_actions")
    created = create_action_runner(
        {"action_endpoint": {"actions_module": module, "timeout": 0.5}}, tmp_path
    )
    assert isinstance(created, InProcessActionRunner)
    yield created
    sys.modules.pop(module, None)
    sys.path.remove(str(tmp_path))


async def test_runs_an_action_and_returns_events_and_messages(
    runner: InProcessActionRunner,
) -> None:
    request = bank_request("action_check_balance", slots={"account": "savings"})
    before = copy.deepcopy(request)
    reply = await runner.run("action_check_balance", request)
    assert reply["events"] == [
        {"event": "slot", "timestamp": None, "name": "balance", "value": 120.5}
    ]
    assert reply["responses"][0]["text"] == "Your savings balance is 120.50 EUR (rest)."
    assert request == before  # the engine's data is not touched


async def test_rejection_unknown_action_crash_and_timeout_are_told_apart(
    runner: InProcessActionRunner,
) -> None:
    with pytest.raises(ActionRejected, match="no account selected"):
        await runner.run("action_needs_account", bank_request("action_needs_account"))
    with pytest.raises(ActionNotRegistered):
        await runner.run("action_nope", bank_request("action_nope"))
    with pytest.raises(ActionServerError, match="RuntimeError: the bank API is down"):
        await runner.run("action_crash", bank_request("action_crash"))
    with pytest.raises(ActionTimeout, match=r"0\.5s"):
        await runner.run("action_slow", bank_request("action_slow", slots={"delay": 5}))
