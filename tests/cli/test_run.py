from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.action_runners import InProcessActionRunner, load_action_runner
from parley.cli.main import app
from tests.action_runners.support import bank_request

runner = CliRunner()


def test_run_actions_names_a_module_it_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "actions", "--actions", "no_such_module"])
    assert result.exit_code != 0
    assert "cannot import actions module 'no_such_module'" in result.output


async def test_starter_project_actions_run_in_process(tmp_path: Path) -> None:
    target = tmp_path / "bot"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    actions = load_action_runner(target)  # its endpoints.yml: actions_module: actions
    assert isinstance(actions, InProcessActionRunner)
    try:
        request = bank_request(
            "validate_password_reset_form",
            slots={"username": "Not A User!", "requested_slot": "username"},
            events=[
                {"event": "slot", "timestamp": 1.0, "name": "username", "value": "Not A User!"}
            ],
            domain={
                "slots": {"username": {}},
                "forms": {"password_reset_form": {"required_slots": ["username", "confirm_reset"]}},
            },
        )
        reply = await actions.run("validate_password_reset_form", request)
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m == "actions" or m.startswith("actions.")]:
            del sys.modules[name]
    assert reply["events"] == [
        {"event": "slot", "timestamp": None, "name": "username", "value": None}
    ]
    assert reply["responses"][0]["response"] == "utter_invalid_username"
