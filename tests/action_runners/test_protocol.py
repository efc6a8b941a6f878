from __future__ import annotations

import pytest

from parley.action_runners import BadActionReply
from parley.action_runners.protocol import check_reply
from tests.action_runners.support import bank_domain


def test_domain_json_has_the_shape_action_servers_read() -> None:
    domain = bank_domain()
    assert domain["forms"]["transfer_form"]["required_slots"] == ["amount", "recipient"]
    assert domain["slots"]["amount"]["mappings"][0] == {
        "type": "from_entity",
        "entity": "amount",
        "conditions": [{"active_loop": "transfer_form", "requested_slot": "amount"}],
    }
    assert domain["slots"]["confirm_large"]["type"] == "bool"
    assert domain["responses"]["utter_transfer_done"] == [
        {"text": "Sent {amount} EUR to {recipient}."}
    ]
    assert "action_transfer" in domain["actions"]
    assert domain["session_config"]["session_expiration_time"] == 60
    assert "greet" in domain["intents"]


def test_reply_defaults_missing_lists() -> None:
    assert check_reply("a", {}) == {"events": [], "responses": []}
    assert check_reply("a", {"events": None, "responses": None}) == {"events": [], "responses": []}


@pytest.mark.parametrize(
    "reply",
    [None, [], "ok", {"events": {}}, {"events": [{"name": "x"}]}, {"responses": ["hi"]}],
)
def test_malformed_reply_is_refused_with_the_action_name(reply: object) -> None:
    with pytest.raises(BadActionReply, match="action 'action_x'"):
        check_reply("action_x", reply)
