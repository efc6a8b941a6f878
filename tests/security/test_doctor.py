from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.app import app
from parley.security.doctor import audit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def insecure(tmp_path: Path) -> Path:
    root = tmp_path / "insecure"
    shutil.copytree(FIXTURES / "insecure_project", root)
    for name in ("endpoints.yml", "credentials.yml", "parley.yml", "secrets/redis_password"):
        (root / name).chmod(0o644)
    (root / "secrets/broker_password").chmod(0o640)
    return root


@pytest.fixture
def secure(tmp_path: Path) -> Path:
    root = tmp_path / "secure"
    shutil.copytree(FIXTURES / "secure_project", root)
    for secret in (root / "secrets").iterdir():
        secret.chmod(0o600)
    return root


def test_doctor_reports_every_planted_problem(insecure: Path) -> None:
    findings = audit(insecure, production=True, env={})
    found = {(f.severity, f.check, f.where.replace(str(insecure) + "/", "")) for f in findings}
    assert found == {
        ("critical", "config-file-permissions", "endpoints.yml"),
        ("critical", "config-file-permissions", "credentials.yml"),
        ("critical", "config-file-permissions", "parley.yml"),
        ("critical", "secret-file-permissions", "endpoints.yml:15"),
        ("high", "secret-file-permissions", "endpoints.yml:21"),
        ("high", "plaintext-secret", "endpoints.yml:10"),
        ("high", "plaintext-secret", "credentials.yml:4"),
        ("high", "plaintext-secret", "parley.yml:4"),
        ("high", "plaintext-secret", "parley.yml:5"),
        ("high", "unresolvable-reference", "endpoints.yml:9"),
        ("high", "action-endpoint-http", "endpoints.yml:2"),
        ("high", "tls-off", "parley.yml"),
        ("high", "weak-auth-token", "parley.yml"),
        ("high", "weak-jwt-secret", "parley.yml"),
        ("high", "debug-logging", "parley.yml"),
    }
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["critical", "high", "medium", "low"].index
    )


def test_doctor_findings_never_show_secret_values(insecure: Path) -> None:
    text = " ".join(f"{f.message} {f.fix}" for f in audit(insecure, production=True, env={}))
    for secret in ("hunter2-in-the-clear", "xoxb-0000", "short-jwt", "redis-secret-value"):
        assert secret not in text
    assert "chmod 600" in text


def test_debug_logging_is_only_a_finding_in_production(insecure: Path) -> None:
    checks = {f.check for f in audit(insecure, production=False, env={})}
    assert "debug-logging" not in checks


def test_clean_project_has_no_findings_even_on_a_public_bind(secure: Path) -> None:
    assert audit(secure, bind="0.0.0.0", production=True, env={}) == []


def test_loopback_bind_without_tls_is_fine_and_public_bind_is_not(secure: Path) -> None:
    settings = secure / "parley.yml"
    settings.write_text(settings.read_text().replace("  ssl_certfile: certs/server.pem\n", ""))
    assert audit(secure, bind="127.0.0.1", env={}) == []
    assert [f.check for f in audit(secure, bind="10.1.2.3", env={})] == ["tls-off"]


def test_debug_environment_in_production_is_reported(secure: Path) -> None:
    findings = audit(secure, production=True, env={"PARLEY_LOG_LEVEL": "debug"})
    assert [(f.check, f.where) for f in findings] == [("debug-logging", "environment")]


def test_doctor_command_exits_non_zero_on_high_findings(insecure: Path, secure: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["doctor", "--project", str(insecure), "--production"])
    assert bad.exit_code == 1
    assert "critical" in bad.output and "action-endpoint-http" in bad.output
    good = runner.invoke(app, ["doctor", "--project", str(secure), "--bind", "0.0.0.0"])
    assert good.exit_code == 0, good.output
    assert "No security findings" in good.output


def test_readable_tls_private_key_is_reported(secure: Path) -> None:
    (secure / "certs").mkdir()
    key = secure / "certs" / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    [finding] = audit(secure, env={})
    assert (finding.severity, finding.check, finding.fix) == (
        "critical",
        "tls-key-permissions",
        f"chmod 600 {key}",
    )
    key.chmod(0o600)
    assert audit(secure, env={}) == []
