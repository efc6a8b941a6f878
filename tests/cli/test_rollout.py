"""`parley models` and `parley rollout`: what a user types, what the registry then holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parley.cli.init import template_dir
from parley.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter project, trained twice by `parley train` (one example more the second time)."""
    folder = tmp_path_factory.mktemp("cli-rollout") / "bot"
    shutil.copytree(template_dir(), folder)
    assert runner.invoke(app, ["train", "--project", str(folder)]).exit_code == 0
    nlu = folder / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text().replace("      - hello\n", "      - hello\n      - hiya\n", 1))
    trained = runner.invoke(app, ["train", "--project", str(folder)])
    assert trained.exit_code == 0, trained.output
    assert "Registered model" in trained.output
    return folder


def _versions(project: Path) -> list[dict[str, object]]:
    listed = runner.invoke(app, ["models", "list", "--json", "--project", str(project)])
    assert listed.exit_code == 0, listed.output
    return list(json.loads(listed.output))


def test_training_registers_each_new_model_with_its_data_hash(project: Path) -> None:
    newest, older = _versions(project)
    assert newest["trained_by"] and newest["data_hash"] != older["data_hash"]
    again = runner.invoke(app, ["train", "--project", str(project)])  # nothing changed
    assert "Registered" not in again.output
    assert len(_versions(project)) == 2


def test_a_rollout_needs_a_production_model_then_runs_and_rolls_back(project: Path) -> None:
    newest, older = _versions(project)
    p = ["--project", str(project)]
    refused = runner.invoke(app, ["rollout", "start", "--candidate", str(newest["version"]), *p])
    assert refused.exit_code == 1 and "no model is tagged production" in refused.output
    assert (
        runner.invoke(app, ["models", "tag", str(older["version"]), "production", *p]).exit_code
        == 0
    )
    started = runner.invoke(
        app, ["rollout", "start", "--candidate", str(newest["version"]), "--percent", "10", *p]
    )
    assert started.exit_code == 0, started.output
    assert "serves 10.0% of users" in " ".join(started.output.split())
    status = runner.invoke(app, ["rollout", "status", "--json", *p])
    assert json.loads(status.output)["experiment"]["status"] == "running"
    assert runner.invoke(app, ["rollout", "step", "--percent", "25", *p]).exit_code == 0
    back = runner.invoke(app, ["rollout", "rollback", "--reason", "looked wrong", *p])
    assert back.exit_code == 0 and "serves everyone" in " ".join(back.output.split())
    history = json.loads(runner.invoke(app, ["rollout", "status", "--json", *p]).output)
    assert [h["action"] for h in history["experiment"]["history"]] == ["start", "step", "rollback"]
    assert runner.invoke(app, ["rollout", "promote", *p]).exit_code == 1  # nothing runs


def test_test_figures_are_attached_to_the_tested_model(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    tested = runner.invoke(app, ["test", "--out", str(project / "results")])
    assert tested.exit_code == 0, tested.output
    newest = _versions(project)[0]
    figures = newest["figures"]
    assert isinstance(figures, dict)
    assert figures["test"]["passed"] == figures["test"]["total"] > 0


def test_shadow_diff_runs_on_stored_conversations(project: Path) -> None:
    newest, _ = _versions(project)
    result = runner.invoke(
        app, ["rollout", "diff", str(newest["version"]), "-n", "10", "--project", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert "turns in 0 conversations differ" in result.output


def test_training_and_rollout_changes_are_audited_when_access_is_on(
    project: Path, tmp_path: Path
) -> None:
    audited = tmp_path / "audited"
    shutil.copytree(project, audited, ignore=shutil.ignore_patterns("parley.db*", ".parley"))
    (audited / "parley.yml").write_text("access: {}\n")
    p = ["--project", str(audited)]
    nlu = audited / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text().replace("      - hiya\n", "      - hiya\n      - yo\n", 1))
    older = sorted((audited / "models").glob("*.tar.gz"))[0]
    assert runner.invoke(app, ["train", *p]).exit_code == 0
    assert (
        runner.invoke(app, ["models", "register", str(older), "--tag", "production", *p]).exit_code
        == 0
    )
    newest = _versions(audited)[0]["version"]
    assert runner.invoke(app, ["rollout", "start", "--candidate", str(newest), *p]).exit_code == 0
    assert runner.invoke(app, ["rollout", "rollback", "--reason", "test", *p]).exit_code == 0
    listed = runner.invoke(app, ["audit", "list", "--json", "-p", str(audited)])
    rows = [json.loads(line) for line in listed.output.splitlines()]
    actions = [row["action"] for row in rows]
    assert {"model_train", "model_tag", "rollout_start", "rollout_rollback"} <= set(actions)
    assert runner.invoke(app, ["audit", "verify", "-p", str(audited)]).exit_code == 0
