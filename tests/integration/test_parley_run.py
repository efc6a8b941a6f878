"""`parley run` as users start it: a real process, flags, TLS with an encrypted key, auth."""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.integration.test_server_tls import make_certificate
from tests.parley_run import PARLEY, parley_run
from tests.server.helpdesk import GREETING, helpdesk_model

pytestmark = pytest.mark.integration
TOKEN = "a-long-enough-test-token-for-the-api-0123"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The trained help-desk project, copied so its SQLite file is this test's own."""
    root = tmp_path / "bot"
    shutil.copytree(helpdesk_model().parents[1], root, ignore=shutil.ignore_patterns("*.db*"))
    return root


def test_https_with_token_auth(project: Path, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, b"tls-key-password")
    trusted = ssl.create_default_context(cafile=str(cert))
    log = tmp_path / "server.log"
    flags = (
        "--enable-api",
        "--auth-token",
        TOKEN,
        "--ssl-certfile",
        str(cert),
        "--ssl-keyfile",
        str(key),
    )
    env = {"PARLEY_SSL_PASSWORD": "tls-key-password"}
    with parley_run(project, *flags, log=log, env=env, tls=trusted) as server:
        with httpx.Client(base_url=server.url, verify=trusted) as client:
            reply = client.post("/webhooks/rest/webhook", json={"sender": "t", "message": "hi"})
            assert reply.json()[0]["text"].startswith(GREETING)
            private = {"sender": "t", "message": "my badge number is zebra-7734219"}
            assert client.post("/webhooks/rest/webhook", json=private).status_code == 200
            assert client.get("/status").status_code == 401
            status = client.get("/status", params={"token": TOKEN})
            assert status.status_code == 200 and status.json()["model_id"]
        assert server.stop(signal.SIGINT) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(line["message"].startswith("ready in") for line in lines)
    assert all(line.get("text") != "hi" for line in lines)
    assert TOKEN not in log.read_text()


def test_without_a_model_it_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PARLEY, "run"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "no model found" in result.stderr and "parley train" in result.stderr
    assert "Traceback" not in result.stderr


def test_open_api_on_loopback_warns_and_parley_yml_limits_apply(
    project: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "more-models"
    extra.mkdir()
    swapped = extra / "swapped.tar.gz"
    shutil.copy(next((project / "models").glob("*.tar.gz")), swapped)
    (project / "parley.yml").write_text(
        f"server:\n  max_message_chars: 40\n  model_folders: [{extra}]\n", "utf-8"
    )
    log = tmp_path / "server.log"
    with parley_run(project, "--enable-api", log=log) as server:
        with httpx.Client(base_url=server.url) as client:
            long = {"sender": "t", "message": "x" * 41}
            assert client.post("/webhooks/rest/webhook", json=long).status_code == 413
            assert client.put("/model", json={"model_file": str(swapped)}).status_code == 204
            elsewhere = {"model_file": str(tmp_path / "other.tar.gz")}
            assert client.put("/model", json=elsewhere).status_code == 400
        assert server.stop(signal.SIGINT) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    warnings = [line["message"] for line in lines if line.get("level") == "WARNING"]
    assert any("any user or process of this machine" in w for w in warnings), warnings
