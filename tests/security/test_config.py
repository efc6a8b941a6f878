from __future__ import annotations

from pathlib import Path

import pytest

from parley.security.config import ProjectSecrets, load_credentials, load_endpoints, load_settings
from parley.security.errors import InsecureFileError, SecretReferenceError, SecurityError
from parley.security.redaction import SecretRegistry


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_load_endpoints_resolves_and_leaves_out_the_vault_section(tmp_path: Path) -> None:
    _write(
        tmp_path / "endpoints.yml",
        "vault:\n  address: ${VAULT_URL:-http://127.0.0.1:8200}\n"
        "tracker_store:\n  type: redis\n  password: ${REDIS_PASSWORD}\n",
    )
    endpoints = load_endpoints(tmp_path, env={"REDIS_PASSWORD": "r3dis-pass"})
    assert endpoints == {"tracker_store": {"type": "redis", "password": "r3dis-pass"}}
    settings = ProjectSecrets(tmp_path, env={}).vault_settings()
    assert settings is not None and settings.address == "http://127.0.0.1:8200"


def test_missing_files_give_empty_config(tmp_path: Path) -> None:
    assert load_endpoints(tmp_path, env={}) == {}
    assert load_credentials(tmp_path, env={}) == {}
    assert load_settings(tmp_path, env={}).server.host == "127.0.0.1"


def test_config_file_with_plaintext_secret_must_be_private(tmp_path: Path) -> None:
    path = _write(tmp_path / "credentials.yml", "slack:\n  slack_token: xoxb-plain-1234\n")
    with pytest.raises(InsecureFileError) as caught:
        load_credentials(tmp_path, env={})
    assert f"chmod 600 {path}" in str(caught.value)
    assert "slack.slack_token" in str(caught.value)
    assert "xoxb-plain-1234" not in str(caught.value)
    path.chmod(0o600)
    assert load_credentials(tmp_path, env={}) == {"slack": {"slack_token": "xoxb-plain-1234"}}


def test_config_file_without_plaintext_secrets_may_be_world_readable(tmp_path: Path) -> None:
    _write(tmp_path / "credentials.yml", "rest:\nslack:\n  slack_token: ${SLACK_TOKEN}\n")
    creds = load_credentials(tmp_path, env={"SLACK_TOKEN": "xoxb-from-env-99"})
    assert creds["slack"]["slack_token"] == "xoxb-from-env-99"


def test_settings_are_typed_and_secret_values_hidden_from_repr(tmp_path: Path) -> None:
    _write(
        tmp_path / "parley.yml",
        "server:\n  host: 0.0.0.0\n  port: ${PORT:-6000}\n  auth_token: ${API_TOKEN}\n",
    )
    settings = load_settings(tmp_path, env={"API_TOKEN": "tok-abcdefgh-123"})
    assert settings.server.port == 6000
    assert settings.server.auth_token is not None
    assert settings.server.auth_token.get_secret_value() == "tok-abcdefgh-123"
    assert "tok-abcdefgh-123" not in repr(settings)


def test_unknown_setting_is_an_error_naming_it(tmp_path: Path) -> None:
    _write(tmp_path / "parley.yml", "server:\n  hots: 0.0.0.0\n")
    with pytest.raises(SecurityError, match=r"server\.hots"):
        load_settings(tmp_path, env={})


def test_unresolvable_endpoint_raises_with_the_key_path(tmp_path: Path) -> None:
    _write(tmp_path / "endpoints.yml", "lock_store:\n  type: redis\n  password: ${LOCK_PW}\n")
    with pytest.raises(SecretReferenceError, match=r"lock_store\.password"):
        load_endpoints(tmp_path, env={})


def test_another_endpoints_file_can_replace_endpoints_yml(tmp_path: Path) -> None:
    _write(tmp_path / "prod-endpoints.yml", "lock_store:\n  type: redis\n  url: ${REDIS_HOST}\n")
    secrets = ProjectSecrets(
        tmp_path, env={"REDIS_HOST": "cache"}, endpoints_file="prod-endpoints.yml"
    )
    assert secrets.endpoints() == {"lock_store": {"type": "redis", "url": "cache"}}


def test_vault_credentials_from_the_environment_are_registered_for_redaction(
    tmp_path: Path,
) -> None:
    registry = SecretRegistry()
    env = {
        "VAULT_ADDR": "http://127.0.0.1:8200",
        "VAULT_SECRET_ID": "sid-0123456789",
        "VAULT_ROLE_ID": "r",
    }
    vault = ProjectSecrets(tmp_path, env=env, registry=registry).vault
    assert vault is not None and vault.settings.auth_method == "approle"
    assert "sid-0123456789" in registry
    assert "sid-0123456789" not in repr(vault.settings)


def test_unknown_vault_setting_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "endpoints.yml", "vault:\n  adress: https://vault:8200\n")
    with pytest.raises(SecurityError, match="unknown key"):
        ProjectSecrets(tmp_path, env={}).vault_settings()


def test_a_single_setting_resolves_and_its_secret_is_registered(tmp_path: Path) -> None:
    _write(tmp_path / "token", "cli-token-0123456789\n", mode=0o600)
    registry = SecretRegistry()
    secrets = ProjectSecrets(tmp_path, env={}, registry=registry)
    assert secrets.resolve("${file:token}", "--auth-token") == "cli-token-0123456789"
    assert "cli-token-0123456789" in registry
    with pytest.raises(SecretReferenceError, match="--auth-token: environment variable NOPE"):
        secrets.resolve("${NOPE}", "--auth-token")
