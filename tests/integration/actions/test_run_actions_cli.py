"""`parley run actions` as users start it: a real process that demands credentials."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from parley.action_runners import ActionServerError, HttpActionRunner, parse_action_endpoint
from tests.action_runners.support import bank_request, parley_copy_of_bank_actions
from tests.integration.actions.processes import parley_actions_server

pytestmark = pytest.mark.integration

JWT_SECRET = "jwt-secret-for-the-cli-test-0123456789"
HMAC_SECRET = "hmac-secret-for-the-cli-test-012345678"


async def test_server_requires_the_configured_jwt_and_signature(tmp_path: Path) -> None:
    module = parley_copy_of_bank_actions(tmp_path)
    env = {"PARLEY_ACTIONS_JWT_SECRET": JWT_SECRET, "PARLEY_ACTIONS_HMAC_SECRET": HMAC_SECRET}
    with parley_actions_server(tmp_path, module, env=env) as url:
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        signed = {"jwt": {"secret": JWT_SECRET}, "hmac": {"secret": HMAC_SECRET}}
        runner = HttpActionRunner(parse_action_endpoint({"url": f"{url}/webhook", **signed}))
        try:
            reply = await runner.run("action_check_balance", bank_request("action_check_balance"))
            assert reply["events"][0]["name"] == "balance"
        finally:
            await runner.close()
        for partial in ({"jwt": signed["jwt"]}, {"hmac": signed["hmac"]}):
            runner = HttpActionRunner(parse_action_endpoint({"url": f"{url}/webhook", **partial}))
            try:
                with pytest.raises(ActionServerError, match="HTTP 401"):
                    await runner.run("action_check_balance", bank_request("action_check_balance"))
            finally:
                await runner.close()
        unsigned = httpx.post(f"{url}/webhook", json=bank_request("action_check_balance"))
        assert unsigned.status_code == 401
