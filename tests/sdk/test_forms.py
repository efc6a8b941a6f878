from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.sdk import ActionExecutor
from tests.action_runners.support import (
    bank_request,
    parley_copy_of_bank_actions,
    slot_event,
    user_event,
)


@pytest.fixture
def executor(tmp_path: Path) -> Iterator[ActionExecutor]:
    module = parley_copy_of_bank_actions(tmp_path, "forms_bank_actions")
    sys.path.insert(0, str(tmp_path))
    executor = ActionExecutor()
    executor.register_package(module)
    yield executor
    sys.path.remove(str(tmp_path))
    sys.modules.pop(module, None)


def form_request(
    slots: dict[str, object], candidates: list[dict[str, object]], intent: str = "inform"
):
    events = [user_event("text", intent), *candidates]
    return bank_request(
        "validate_transfer_form", slots=slots, events=events, active_loop="transfer_form"
    )


async def test_validate_methods_clean_the_candidate_slots(executor: ActionExecutor) -> None:
    request = form_request(
        {"amount": "50", "recipient": " bob ", "requested_slot": "recipient"},
        [slot_event("amount", "50"), slot_event("recipient", " bob ")],
    )
    reply = await executor.run(request)
    assert [(e["name"], e["value"]) for e in reply["events"]] == [
        ("amount", 50.0),
        ("recipient", "Bob"),
    ]
    assert reply["responses"] == []


async def test_invalid_value_is_cleared_with_a_message(executor: ActionExecutor) -> None:
    request = form_request(
        {"amount": "lots", "requested_slot": "amount"}, [slot_event("amount", "lots")]
    )
    reply = await executor.run(request)
    assert [(e["name"], e["value"]) for e in reply["events"]] == [("amount", None)]
    assert reply["responses"][0]["response"] == "utter_invalid_amount"
    assert reply["responses"][0]["amount"] == "lots"


async def test_overridden_required_slots_choose_the_next_slot(executor: ActionExecutor) -> None:
    request = form_request(
        {"amount": "2500", "recipient": "Carol", "requested_slot": "amount"},
        [slot_event("amount", "2500")],
    )
    reply = await executor.run(request)
    assert [(e["name"], e["value"]) for e in reply["events"]] == [
        ("amount", 2500.0),
        ("requested_slot", "confirm_large"),
    ]


async def test_extract_method_fills_a_custom_slot_and_ends_the_form(
    executor: ActionExecutor,
) -> None:
    request = form_request(
        {"amount": 2500.0, "recipient": "Carol", "requested_slot": "confirm_large"},
        [],
        intent="affirm",
    )
    reply = await executor.run(request)
    assert [(e["name"], e["value"]) for e in reply["events"]] == [
        ("confirm_large", True),
        ("requested_slot", None),
    ]


async def test_domain_list_leaves_the_next_slot_to_the_form(executor: ActionExecutor) -> None:
    request = form_request(
        {"amount": "20", "requested_slot": "amount"}, [slot_event("amount", "20")]
    )
    reply = await executor.run(request)
    assert [e["name"] for e in reply["events"]] == ["amount"]
