"""`parley run`'s assembly reads `access:` from parley.yml and guards the API with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from typer.testing import CliRunner

from parley.cli.main import app
from parley.server import ServerConfig
from parley.server.bootstrap import ProjectFiles, build_server
from tests.server.helpdesk import helpdesk_model
from tests.server.live import running


async def test_a_project_with_access_serves_logins_and_guards_the_api(tmp_path: Path) -> None:
    (tmp_path / "parley.yml").write_text("access:\n  session: {idle_minutes: 10}\n")
    runner = CliRunner()
    created = await asyncio.to_thread(  # the CLI runs its own event loop
        runner.invoke,
        app, ["users", "create", "ana", "--role", "analyst", "--password-stdin", "-p",
              str(tmp_path)], input="a long password\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    files = ProjectFiles(project=tmp_path, model=helpdesk_model())
    server = await build_server(files, ServerConfig(enable_api=True))
    async with running(server) as port, httpx.AsyncClient(timeout=30) as client:
        base = f"http://127.0.0.1:{port}"
        assert (await client.get(f"{base}/status")).status_code == 401
        login = await client.post(
            f"{base}/auth/login", json={"username": "ana", "password": "a long password"}
        )
        assert login.status_code == 200
        assert (await client.get(f"{base}/status")).status_code == 200
        assert (await client.get(f"{base}/admin/users")).status_code == 403
