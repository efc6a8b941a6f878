from __future__ import annotations

from pathlib import Path

from parley.project.errors import ProblemSink
from parley.security.checks import check_config_references
from parley.validation import validate_project


def _project(tmp_path: Path, endpoints: str) -> Path:
    (tmp_path / "domain.yml").write_text('version: "3.1"\nintents:\n  - greet\n')
    (tmp_path / "endpoints.yml").write_text(endpoints)
    return tmp_path


def test_validate_reports_unresolvable_reference_with_position(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PARLEY_TEST_UNSET_PW", raising=False)
    _project(tmp_path, "tracker_store:\n  type: sql\n  password: ${PARLEY_TEST_UNSET_PW}\n")
    problems = validate_project(tmp_path)
    [problem] = [p for p in problems if "PARLEY_TEST_UNSET_PW" in p.message]
    assert problem.severity == "error"
    assert str(problem).startswith(f"{tmp_path / 'endpoints.yml'}:3:13: error: ")
    assert "tracker_store.password" in problem.message


def test_vault_reference_is_a_warning_when_vault_is_not_configured(tmp_path: Path) -> None:
    _project(tmp_path, "tracker_store:\n  password: ${vault:secret/bot#db}\n")
    sink = ProblemSink()
    check_config_references(tmp_path, sink, env={})
    [problem] = sink.problems
    assert problem.severity == "warning"
    assert "Vault is not configured" in problem.message


def test_vault_reference_is_a_warning_when_vault_is_down(tmp_path: Path) -> None:
    _project(tmp_path, "tracker_store:\n  password: ${vault:secret/bot#db}\n")
    sink = ProblemSink()
    check_config_references(
        tmp_path, sink, env={"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_TOKEN": "t"}
    )
    [problem] = sink.problems
    assert problem.severity == "warning"
    assert "not reachable" in problem.message


def test_exposed_secret_file_is_a_validation_error(tmp_path: Path) -> None:
    _project(tmp_path, "lock_store:\n  password: ${file:pw}\n")
    (tmp_path / "pw").write_text("pw-value\n")
    (tmp_path / "pw").chmod(0o644)
    sink = ProblemSink()
    check_config_references(tmp_path, sink, env={})
    [problem] = sink.problems
    assert problem.severity == "error"
    assert f"chmod 600 {tmp_path / 'pw'}" in problem.message


def test_vault_section_problems_are_reported_once_with_their_position(tmp_path: Path) -> None:
    _project(
        tmp_path,
        "vault:\n  address: ${PARLEY_TEST_UNSET_VAULT_ADDR}\n"
        "tracker_store:\n  password: ${vault:secret/bot#db}\n",
    )
    sink = ProblemSink()
    check_config_references(tmp_path, sink, env={})
    errors = [p for p in sink.problems if p.severity == "error"]
    warnings = [p for p in sink.problems if p.severity == "warning"]
    assert [(p.location.line, p.location.column) for p in errors] == [(2, 12)]
    assert "vault.address" in errors[0].message
    assert len(warnings) == 1 and "do not resolve" in warnings[0].message


def test_unknown_vault_setting_is_a_validation_error(tmp_path: Path) -> None:
    _project(tmp_path, "vault:\n  adress: https://vault:8200\n")
    sink = ProblemSink()
    check_config_references(tmp_path, sink, env={})
    [problem] = sink.problems
    assert problem.severity == "error" and "unknown key(s) adress" in problem.message
