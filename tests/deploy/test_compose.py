"""deploy/compose.yaml: the services, their order of start, secrets that must be set, and two
replicas behind the proxy. `docker-compose config` validates the file where it is installed."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRETS = {
    "POSTGRES_PASSWORD": "pg",
    "REDIS_PASSWORD": "redis",
    "RABBITMQ_PASSWORD": "rabbit",
    "PARLEY_ACTIONS_JWT_SECRET": "jwt",
    "PARLEY_AUTH_TOKEN": "token",
}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text())
    return data


def test_services_start_in_order_behind_a_proxy() -> None:
    services = compose()["services"]
    assert set(services) == {
        "postgres", "redis", "rabbitmq", "migrate", "actions", "parley-1", "parley-2", "proxy"
    }  # fmt: skip
    migrate = services["migrate"]
    assert migrate["command"][:2] == ["db", "migrate"]
    assert all(c["condition"] == "service_healthy" for c in migrate["depends_on"].values())
    for replica in ("parley-1", "parley-2"):
        service = services[replica]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]
        assert service["cap_drop"] == ["ALL"]
    upstream = re.findall(r"server (parley-\d):5005", (DEPLOY / "nginx.conf").read_text())
    assert upstream == ["parley-1", "parley-2"]
    assert services["actions"]["build"]["target"] == "actions"


def test_parley_reads_the_compose_endpoints_with_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.observability.operations import Operations
    from parley.security import ProjectSecrets

    env = compose()["services"]["parley-1"]["environment"]
    for key, value in env.items():
        if "$" not in str(value):  # the rest come from deploy/.env
            monkeypatch.setenv(key, str(value))
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    shutil.copy(DEPLOY / "k8s" / "base" / "endpoints.yml", tmp_path / "endpoints.yml")
    endpoints = ProjectSecrets(tmp_path).endpoints()
    assert endpoints["tracker_store"]["password"] == "pg"
    assert endpoints["tracker_store"]["url"] == "postgres"
    assert endpoints["lock_store"] == {"type": "redis", "url": "redis", "password": "redis"}
    assert endpoints["action_endpoint"]["url"] == "http://actions:5055/webhook"
    ops = Operations.from_endpoints(endpoints)
    try:
        assert ops.redactor is not None and ops.redactor.config.applies_to("logs")
    finally:
        asyncio.run(ops.close())  # stops redacting this process's log records


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_validates_the_file_and_demands_the_secrets() -> None:
    def config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k not in SECRETS}
        return subprocess.run(
            ["docker-compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert config(SECRETS).returncode == 0, config(SECRETS).stderr
    missing = config({k: v for k, v in SECRETS.items() if k != "REDIS_PASSWORD"})
    assert missing.returncode != 0
    assert "set REDIS_PASSWORD" in missing.stderr
