"""Vault references against a real OpenBao server (dev mode, started here on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.project.errors import ProblemSink
from parley.security.checks import check_config_references
from parley.security.config import ProjectSecrets
from parley.security.errors import SecretReferenceError, VaultError
from parley.security.redaction import SecretRegistry
from parley.security.vault import VaultClient, VaultSettings
from tests.integration.openbao import OpenBao, start_openbao
from tests.ports import free_port

pytestmark = pytest.mark.integration

READ_POLICY = 'path "secret/data/parley/*" { capabilities = ["read"] }'


@pytest.fixture(scope="module")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    server = start_openbao(tmp_path_factory.mktemp("openbao"), with_tls=True)
    root = server.root
    root.secrets.kv.v2.create_or_update_secret(
        "parley/db", secret={"password": "vault-db-pass-1", "user": "bot"}, mount_point="secret"
    )
    root.sys.enable_auth_method("approle")
    root.sys.create_or_update_policy("parley-read", READ_POLICY)
    root.auth.approle.create_or_update_approle("parley", token_policies=["parley-read"])
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "endpoints.yml").write_text(
        "tracker_store:\n  type: sql\n  username: ${vault:secret/parley/db#user}\n"
        "  password: ${vault:secret/parley/db#password}\n"
    )
    return root


def _approle(openbao: OpenBao) -> tuple[str, str]:
    root = openbao.root
    role_id = root.auth.approle.read_role_id("parley")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("parley")["data"]["secret_id"]
    return role_id, secret_id


def test_token_auth_from_environment_resolves_endpoints(openbao: OpenBao, project: Path) -> None:
    registry = SecretRegistry()
    env = {"VAULT_ADDR": openbao.address, "VAULT_TOKEN": openbao.root_token}
    endpoints = ProjectSecrets(project, env, registry).endpoints()
    assert endpoints["tracker_store"] == {
        "type": "sql",
        "username": "bot",
        "password": "vault-db-pass-1",
    }
    assert "vault-db-pass-1" in registry


def test_vault_section_with_token_from_a_private_file(openbao: OpenBao, project: Path) -> None:
    token_file = project / "vault-token"
    token_file.write_text(openbao.root_token + "\n")
    token_file.chmod(0o600)
    endpoints = project / "endpoints.yml"
    endpoints.write_text(
        f"vault:\n  address: {openbao.address}\n  token: ${{file:vault-token}}\n"
        + endpoints.read_text()
    )
    resolved = ProjectSecrets(project, env={}, registry=SecretRegistry()).endpoints()
    assert resolved["tracker_store"]["password"] == "vault-db-pass-1"
    assert "vault" not in resolved


def test_approle_login_reads_and_logs_in_again_after_its_token_is_revoked(
    openbao: OpenBao,
) -> None:
    role_id, secret_id = _approle(openbao)
    settings = VaultSettings(openbao.address, role_id=role_id, secret_id=secret_id, cache_ttl=0)
    vault = VaultClient(settings)
    assert settings.auth_method == "approle"
    assert vault.read("secret", "parley/db", "password") == "vault-db-pass-1"
    root = openbao.root
    for accessor in root.auth.token.list_accessors()["data"]["keys"]:
        info = root.auth.token.lookup_accessor(accessor)["data"]
        if "parley-read" in (info.get("policies") or []):
            root.auth.token.revoke_accessor(accessor)
    assert vault.read("secret", "parley/db", "user") == "bot"


def test_approle_with_a_wrong_secret_id_is_refused(openbao: OpenBao) -> None:
    role_id, _ = _approle(openbao)
    vault = VaultClient(VaultSettings(openbao.address, role_id=role_id, secret_id="wrong-id"))
    with pytest.raises(VaultError, match="refused the AppRole login"):
        vault.read("secret", "parley/db", "password")


def test_approle_policy_limits_what_can_be_read(openbao: OpenBao) -> None:
    openbao.root.secrets.kv.v2.create_or_update_secret(
        "other/admin", secret={"key": "x"}, mount_point="secret"
    )
    role_id, secret_id = _approle(openbao)
    vault = VaultClient(VaultSettings(openbao.address, role_id=role_id, secret_id=secret_id))
    with pytest.raises(VaultError, match="permission denied"):
        vault.read("secret", "other/admin", "key")


def test_wrong_token_is_a_clear_error_naming_the_key(openbao: OpenBao, project: Path) -> None:
    env = {"VAULT_ADDR": openbao.address, "VAULT_TOKEN": "not-a-real-token"}
    with pytest.raises(SecretReferenceError) as caught:
        ProjectSecrets(project, env, SecretRegistry()).endpoints()
    message = str(caught.value)
    assert "tracker_store.password" in message
    assert "${vault:secret/parley/db#password}" in message
    assert "permission denied" in message
    assert "not-a-real-token" not in message


def test_missing_key_and_missing_secret_are_named(openbao: OpenBao) -> None:
    vault = VaultClient(VaultSettings(openbao.address, token=openbao.root_token))
    with pytest.raises(VaultError, match=r"no key 'pasword' \(keys: password, user\)"):
        vault.read("secret", "parley/db", "pasword")
    with pytest.raises(VaultError, match="no secret secret/parley/nothing"):
        vault.read("secret", "parley/nothing", "key")


def test_tls_with_the_ca_bundle_works_and_without_it_is_refused(openbao: OpenBao) -> None:
    assert openbao.tls_address is not None and openbao.tls is not None
    trusted = VaultSettings(
        openbao.tls_address, token=openbao.root_token, ca_cert=openbao.tls.ca_cert
    )
    assert VaultClient(trusted).read("secret", "parley/db", "user") == "bot"
    untrusted = VaultClient(VaultSettings(openbao.tls_address, token=openbao.root_token))
    with pytest.raises(VaultError, match="TLS verification failed"):
        untrusted.read("secret", "parley/db", "user")


def test_ca_cert_comes_from_vault_cacert_relative_to_the_project(
    openbao: OpenBao, project: Path
) -> None:
    assert openbao.tls is not None and openbao.tls_address is not None
    env = {
        "VAULT_ADDR": openbao.tls_address,
        "VAULT_TOKEN": openbao.root_token,
        "VAULT_CACERT": str(openbao.tls.ca_cert),
    }
    secrets = ProjectSecrets(project, env, SecretRegistry())
    assert secrets.endpoints()["tracker_store"]["username"] == "bot"


def test_cached_values_are_refreshed_after_the_ttl(openbao: OpenBao) -> None:
    now = [1000.0]
    root = openbao.root
    root.secrets.kv.v2.create_or_update_secret(
        "parley/rotating", secret={"key": "v1"}, mount_point="secret"
    )
    settings = VaultSettings(openbao.address, token=openbao.root_token, cache_ttl=60)
    vault = VaultClient(settings, clock=lambda: now[0])
    assert vault.read("secret", "parley/rotating", "key") == "v1"
    root.secrets.kv.v2.create_or_update_secret(
        "parley/rotating", secret={"key": "v2"}, mount_point="secret"
    )
    now[0] += 59
    assert vault.read("secret", "parley/rotating", "key") == "v1"
    now[0] += 2
    assert vault.read("secret", "parley/rotating", "key") == "v2"


def test_vault_down_is_a_clear_error_and_a_cached_value_outlives_it(tmp_path: Path) -> None:
    down = VaultClient(VaultSettings(f"http://127.0.0.1:{free_port()}", token="t", timeout=2))
    with pytest.raises(VaultError, match="cannot reach Vault"):
        down.read("secret", "parley/db", "password")
    assert not down.is_reachable()

    server = start_openbao(tmp_path / "short-lived")
    try:
        server.root.secrets.kv.v2.create_or_update_secret(
            "parley/db", secret={"password": "kept"}, mount_point="secret"
        )
        now = [0.0]
        vault = VaultClient(
            VaultSettings(server.address, token=server.root_token, cache_ttl=10, timeout=2),
            clock=lambda: now[0],
        )
        assert vault.read("secret", "parley/db", "password") == "kept"
    finally:
        server.stop()
    now[0] += 60
    assert vault.read("secret", "parley/db", "password") == "kept"
    vault.clear_cache()
    with pytest.raises(VaultError, match="cannot reach Vault"):
        vault.read("secret", "parley/db", "password")


def test_validate_checks_vault_references_when_vault_is_reachable(
    openbao: OpenBao, project: Path
) -> None:
    (project / "endpoints.yml").write_text(
        "tracker_store:\n  password: ${vault:secret/parley/db#password}\n"
        "lock_store:\n  password: ${vault:secret/parley/db#nope}\n"
    )
    sink = ProblemSink()
    check_config_references(
        project, sink, env={"VAULT_ADDR": openbao.address, "VAULT_TOKEN": openbao.root_token}
    )
    [problem] = sink.problems
    assert (problem.severity, problem.location.line) == ("error", 4)
    assert "lock_store.password" in problem.message and "no key 'nope'" in problem.message


def test_doctor_reports_a_missing_vault_key_only_when_vault_answers(
    openbao: OpenBao, project: Path
) -> None:
    from parley.security.doctor import audit

    (project / "endpoints.yml").write_text(
        "lock_store:\n  password: ${vault:secret/parley/db#nope}\n"
    )
    live = {"VAULT_ADDR": openbao.address, "VAULT_TOKEN": openbao.root_token}
    [finding] = audit(project, env=live)
    assert (finding.severity, finding.check, finding.where) == (
        "high",
        "unresolvable-reference",
        f"{project / 'endpoints.yml'}:2",
    )
    down = {"VAULT_ADDR": f"http://127.0.0.1:{free_port()}", "VAULT_TOKEN": "t"}
    [finding] = audit(project, env=down)
    assert (finding.severity, finding.check) == ("low", "unchecked-reference")
