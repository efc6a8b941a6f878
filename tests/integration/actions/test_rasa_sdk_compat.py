"""The real rasa-sdk and `parley run actions` serve the same actions and answer the same.

The action module is written for rasa_sdk (tests/fixtures/actions/bank_actions.py); Parley
serves a copy whose imports say `parley.sdk`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from parley.action_runners import (
    ActionNotRegistered,
    ActionRejected,
    ActionServerError,
    HttpActionRunner,
    parse_action_endpoint,
)
from tests.action_runners.support import (
    FIXTURES,
    assert_reply_matches_protocol,
    bank_request,
    parley_copy_of_bank_actions,
    protocol_validator,
    slot_event,
    user_event,
)
from tests.integration.actions.processes import parley_actions_server, rasa_sdk_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("served_actions")
    shutil.copy(FIXTURES / "bank_actions.py", folder / "bank_actions.py")
    parley_module = parley_copy_of_bank_actions(folder)
    with (
        rasa_sdk_server(folder, "bank_actions") as rasa,
        parley_actions_server(folder, parley_module) as parley,
    ):
        yield {"rasa_sdk": rasa, "parley": parley}


def form_request(slots: dict[str, Any], candidates: list[dict[str, Any]], intent: str = "inform"):
    return bank_request(
        "validate_transfer_form",
        slots=slots,
        events=[user_event("text", intent), *candidates],
        active_loop="transfer_form",
    )


REQUESTS = {
    "global_slots": bank_request(
        "action_validate_slot_mappings",
        slots={"account": "Savings "},
        events=[
            user_event("my Savings account", "check_balance"),
            slot_event("account", "Savings "),
        ],
    ),
    "global_slots_invalid": bank_request(
        "action_validate_slot_mappings",
        slots={"account": "pension"},
        events=[user_event("pension", "check_balance"), slot_event("account", "pension")],
    ),
    "balance": bank_request("action_check_balance", slots={"account": "savings"}),
    "form_valid": form_request(
        {"amount": "50", "recipient": " bob ", "requested_slot": "recipient"},
        [slot_event("amount", "50"), slot_event("recipient", " bob ")],
    ),
    "form_invalid": form_request(
        {"amount": "lots", "requested_slot": "amount"}, [slot_event("amount", "lots")]
    ),
    "form_more_slots": form_request(
        {"amount": "2500", "recipient": "Carol", "requested_slot": "amount"},
        [slot_event("amount", "2500")],
    ),
    "form_extract": form_request(
        {"amount": 2500.0, "recipient": "Carol", "requested_slot": "confirm_large"},
        [],
        intent="affirm",
    ),
    "transfer": bank_request("action_transfer", slots={"amount": 50.0, "recipient": "Bob"}),
    "transfer_cancelled": bank_request("action_transfer", slots={"confirm_large": False}),
    "followup": bank_request("action_needs_account", slots={"account": "checking"}),
    "rejected": bank_request("action_needs_account"),
    "reminder": bank_request("action_remind_later"),
    "unknown": bank_request("action_unknown"),
}


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_parley_answers_exactly_as_rasa_sdk(servers: dict[str, str], case: str) -> None:
    answers = {
        name: httpx.post(f"{url}/webhook", json=REQUESTS[case], timeout=10)
        for name, url in servers.items()
    }
    rasa, parley = answers["rasa_sdk"], answers["parley"]
    assert rasa.status_code == parley.status_code
    assert rasa.json() == parley.json()
    assert_reply_matches_protocol(rasa.status_code, rasa.json())
    assert list(protocol_validator("WebhookRequest").iter_errors(REQUESTS[case])) == []


def test_crashing_action_is_a_server_error_on_both(servers: dict[str, str]) -> None:
    for url in servers.values():
        answer = httpx.post(f"{url}/webhook", json=bank_request("action_crash"), timeout=10)
        assert answer.status_code == 500
        assert_reply_matches_protocol(500, answer.json())
        assert "the bank API is down" in answer.json()["error"]


def test_both_list_the_same_actions(servers: dict[str, str]) -> None:
    listed = [
        sorted(a["name"] for a in httpx.get(f"{url}/actions", timeout=5).json())
        for url in servers.values()
    ]
    assert listed[0] == listed[1]
    assert "validate_transfer_form" in listed[0]


async def test_parley_runner_drives_the_real_rasa_sdk(servers: dict[str, str]) -> None:
    runner = HttpActionRunner(parse_action_endpoint({"url": f"{servers['rasa_sdk']}/webhook"}))
    try:
        reply = await runner.run("validate_transfer_form", REQUESTS["form_more_slots"])
        assert [(e["name"], e["value"]) for e in reply["events"]] == [
            ("amount", 2500.0),
            ("requested_slot", "confirm_large"),
        ]
        reply = await runner.run("action_transfer", REQUESTS["transfer"])
        assert reply["responses"][0]["response"] == "utter_transfer_done"
        assert [e["event"] for e in reply["events"]] == ["reset_slots", "slot"]
        with pytest.raises(ActionRejected, match="no account selected"):
            await runner.run("action_needs_account", REQUESTS["rejected"])
        with pytest.raises(ActionNotRegistered):
            await runner.run("action_unknown", REQUESTS["unknown"])
        with pytest.raises(ActionServerError, match="HTTP 500"):
            await runner.run("action_crash", bank_request("action_crash"))
    finally:
        await runner.close()
