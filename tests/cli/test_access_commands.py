"""`parley users`, `parley tokens` and `parley audit` on a project's access store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from parley.cli.main import app

runner = CliRunner()


def _run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_tokens_and_audit_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "parley.yml").write_text("access: {}\n")
    project = ["-p", str(tmp_path)]
    _run("users", "create", "dana", "--role", "annotator", "--password-stdin", *project,
         stdin="a long password\n")  # fmt: skip
    _run("users", "set-role", "dana", "analyst", *project)
    users = json.loads(_run("users", "list", "--json", *project))
    assert [(u["username"], u["role"], u["source"]) for u in users] == [
        ("dana", "analyst", "local")
    ]
    output = _run("tokens", "create", "dana", "--name", "ci", "--scope", "analytics:read",
                  "--expires", "30d", *project)  # fmt: skip
    token = output.strip().splitlines()[-1]
    assert token.startswith("pat_")
    listed = json.loads(_run("tokens", "list", "--json", *project))
    assert listed[0]["scopes"] == ["analytics:read"] and token not in json.dumps(listed)
    _run("tokens", "revoke", listed[0]["id"], *project)
    rows = [json.loads(line) for line in _run("audit", "list", "--json", *project).splitlines()]
    assert [row["action"] for row in rows] == [
        "token_revoke", "token_create", "role_change", "user_create"
    ]  # fmt: skip
    assert all(row["actor"].startswith("cli:") for row in rows)
    assert "intact: 4 row(s)" in _run("audit", "verify", *project)


def test_a_scope_beyond_the_role_and_an_unknown_role_are_refused(tmp_path: Path) -> None:
    project = ["-p", str(tmp_path)]
    created = _run("users", "create", "eli", "--role", "viewer", "--no-password", *project)
    assert "no `access:` section" in created  # the server would not use eli yet
    beyond = runner.invoke(app, ["tokens", "create", "eli", "-n", "x", "-s", "users:manage",
                                 *project])  # fmt: skip
    assert "does not have users:manage" in str(beyond.exception)
    unknown = runner.invoke(app, ["users", "set-role", "eli", "wizard", *project])
    assert "unknown role" in str(unknown.exception)


def test_data_commands_are_audited_when_access_is_on(tmp_path: Path) -> None:
    (tmp_path / "parley.yml").write_text("access: {}\n")
    project = ["-p", str(tmp_path)]
    runner.invoke(app, ["data", "delete", "conv-1", *project])  # exits 1: nothing stored
    _run("data", "purge", "--older-than", "90d", *project)
    rows = [json.loads(line) for line in _run("audit", "list", "--json", *project).splitlines()]
    assert [(row["action"], row["target"]) for row in rows] == [
        ("conversation_purge", None),
        ("conversation_delete", "conv-1"),
    ]
    assert rows[1]["details"] == {"existed": False}
