from __future__ import annotations

from pathlib import Path

import pytest

from parley.project.errors import ProblemSink
from parley.project.yamlio import read_yaml
from parley.security.errors import InsecureFileError, SecretReferenceError
from parley.security.redaction import SecretRegistry
from parley.security.resolve import resolve_config, resolve_value

ENDPOINTS = """\
tracker_store:
  type: sql
  url: ${DB_HOST}
  port: ${DB_PORT:-5432}
  password: ${DB_PASSWORD}
  dsn: postgresql://bot:${file:secrets/db}@${DB_HOST}/bot
"""


def _node(tmp_path: Path, text: str = ENDPOINTS):  # type: ignore[no-untyped-def]
    path = tmp_path / "endpoints.yml"
    path.write_text(text)
    return path, read_yaml(path, ProblemSink())


def _secret_file(tmp_path: Path, content: str = "file-secret-42\n", mode: int = 0o600) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir(exist_ok=True)
    path = folder / "db"
    path.write_text(content)
    path.chmod(mode)
    return path


def test_env_default_and_file_references_resolve(tmp_path: Path) -> None:
    _secret_file(tmp_path)
    path, node = _node(tmp_path)
    env = {"DB_HOST": "db.internal", "DB_PASSWORD": "env-secret-7"}
    resolved = resolve_config(node, path, tmp_path, env=env, registry=SecretRegistry())
    assert resolved["tracker_store"] == {
        "type": "sql",
        "url": "db.internal",
        "port": "5432",
        "password": "env-secret-7",
        "dsn": "postgresql://bot:file-secret-42@db.internal/bot",
    }


def test_file_secret_keeps_inner_newlines_and_strips_only_the_final_one(tmp_path: Path) -> None:
    _secret_file(tmp_path, "line one\nline two\n\n")
    value = resolve_value("${file:secrets/db}", tmp_path, env={}, registry=SecretRegistry())
    assert value == "line one\nline two\n"


def test_missing_variable_names_file_key_path_line_and_reference(tmp_path: Path) -> None:
    _secret_file(tmp_path)
    path, node = _node(tmp_path)
    with pytest.raises(SecretReferenceError) as caught:
        resolve_config(node, path, tmp_path, env={"DB_HOST": "h"}, registry=SecretRegistry())
    [problem] = caught.value.problems
    assert (problem.key_path, problem.reference, problem.line, problem.column) == (
        "tracker_store.password",
        "${DB_PASSWORD}",
        5,
        13,
    )
    assert f"{path}:5:13: tracker_store.password:" in str(caught.value)
    assert "DB_PASSWORD is not set" in str(caught.value)


def test_every_problem_of_a_file_is_reported_together(tmp_path: Path) -> None:
    path, node = _node(tmp_path)
    with pytest.raises(SecretReferenceError) as caught:
        resolve_config(node, path, tmp_path, env={}, registry=SecretRegistry())
    paths = [p.key_path for p in caught.value.problems]
    assert paths == [
        "tracker_store.url",
        "tracker_store.password",
        "tracker_store.dsn",
        "tracker_store.dsn",
    ]
    assert "secrets/db does not exist" in str(caught.value)


def test_empty_variable_is_an_error_unless_a_default_is_given(tmp_path: Path) -> None:
    with pytest.raises(SecretReferenceError, match="TOKEN is empty"):
        resolve_value("${TOKEN}", tmp_path, env={"TOKEN": ""}, registry=SecretRegistry())
    assert resolve_value("${TOKEN:-x}", tmp_path, env={"TOKEN": ""}) == "x"
    assert resolve_value("${TOKEN:-}", tmp_path, env={}) == ""


def test_group_readable_secret_file_is_refused(tmp_path: Path) -> None:
    secret = _secret_file(tmp_path, mode=0o640)
    with pytest.raises(SecretReferenceError) as caught:
        resolve_value("${file:secrets/db}", tmp_path, env={}, registry=SecretRegistry())
    assert f"chmod 600 {secret}" in str(caught.value)
    assert "file-secret-42" not in str(caught.value)


def test_vault_reference_without_vault_says_how_to_configure_it(tmp_path: Path) -> None:
    with pytest.raises(SecretReferenceError, match="set VAULT_ADDR"):
        resolve_value("${vault:secret/bot#token}", tmp_path, env={}, registry=SecretRegistry())


def test_lists_and_plain_dicts_resolve_with_indexed_key_paths(tmp_path: Path) -> None:
    raw = {"brokers": [{"password": "${P1}"}, {"password": "${P2}"}], "port": 5}
    with pytest.raises(SecretReferenceError) as caught:
        resolve_config(raw, tmp_path / "x.yml", tmp_path, env={"P1": "a"})
    assert [p.key_path for p in caught.value.problems] == ["brokers[1].password"]
    resolved = resolve_config(raw, tmp_path / "x.yml", tmp_path, env={"P1": "a", "P2": "b"})
    assert resolved == {"brokers": [{"password": "a"}, {"password": "b"}], "port": 5}


def test_secrets_are_registered_for_redaction_but_plain_settings_are_not(tmp_path: Path) -> None:
    _secret_file(tmp_path)
    path, node = _node(tmp_path)
    registry = SecretRegistry()
    env = {"DB_HOST": "db.internal", "DB_PASSWORD": "env-secret-7"}
    resolve_config(node, path, tmp_path, env=env, registry=registry)
    assert "env-secret-7" in registry
    assert "file-secret-42" in registry
    assert "db.internal" not in registry


def test_insecure_file_error_is_part_of_the_family(tmp_path: Path) -> None:
    from parley.security.permissions import check_private_file

    with pytest.raises(InsecureFileError):
        check_private_file(_secret_file(tmp_path, mode=0o644))
