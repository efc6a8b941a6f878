"""`parley run`'s server wires the project's action_endpoint: in-process or a secured server."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley.action_runners.signing import RequestVerifier
from parley.project import load_project
from parley.sdk import ActionExecutor
from parley.sdk.server import create_app
from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import ServerConfig
from parley.training import train_project
from tests.action_runners.support import BANKBOT, ServerThread, parley_copy_of_bank_actions
from tests.server.live import running

pytestmark = pytest.mark.integration

JWT_SECRET = "served-assistant-jwt-secret-0123456789"
BALANCE = '/check_balance{"account": "savings"}'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("served") / "bankbot"
    shutil.copytree(BANKBOT, root)
    parley_copy_of_bank_actions(root, "served_bank_actions")
    train_project(load_project(root), root / "models")
    yield root
    sys.modules.pop("served_bank_actions", None)
    if str(root) in sys.path:
        sys.path.remove(str(root))


async def say(project: Path, text: str) -> list[str]:
    server = await build_server(ProjectFiles(project), ServerConfig())
    async with running(server) as port, httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={"sender": "alice", "message": text},
        )
    assert answer.status_code == 200, answer.text
    return [m.get("text") for m in answer.json()]


async def test_in_process_actions(project: Path) -> None:
    (project / "endpoints.yml").write_text(
        "action_endpoint:\n  actions_module: served_bank_actions\n"
    )
    assert await say(project, BALANCE) == ["Your savings balance is 120.50 EUR (rest)."]


async def test_action_server_with_jwt_from_the_environment(
    project: Path, bank_executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANK_ACTIONS_JWT", JWT_SECRET)
    with ServerThread(create_app(bank_executor, RequestVerifier(jwt_key=JWT_SECRET))) as actions:
        (project / "endpoints.yml").write_text(
            f"action_endpoint:\n  url: {actions.url()}\n  jwt:\n    secret: ${{BANK_ACTIONS_JWT}}\n"
        )
        assert await say(project, BALANCE) == ["Your savings balance is 120.50 EUR (rest)."]
        monkeypatch.setenv("BANK_ACTIONS_JWT", "a-different-secret-of-enough-length-000")
        assert await say(project, BALANCE) == [
            "Sorry, I cannot do that right now. Please try again later."
        ]
