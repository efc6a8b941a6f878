from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from parley.cli.main import app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nlubot"
runner = CliRunner()


def _train(tmp_path: Path) -> Path:
    out = tmp_path / "models"
    result = runner.invoke(
        app,
        ["train", "nlu", "--config", str(FIXTURE / "config.yml"), "--nlu",
         str(FIXTURE / "data"), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Trained nlu" in result.output
    return out


def test_train_shell_and_test_nlu(tmp_path: Path) -> None:
    models = _train(tmp_path)
    shell = runner.invoke(app, ["shell", "nlu", "--model", str(models)], input="good morning\n")
    assert shell.exit_code == 0, shell.output
    assert '"name": "greet"' in shell.output

    out = tmp_path / "results"
    tested = runner.invoke(
        app, ["test", "nlu", "--model", str(models), "--nlu", str(FIXTURE / "data"),
              "--out", str(out)],
    )  # fmt: skip
    assert tested.exit_code == 0, tested.output
    assert "Intents: accuracy" in tested.output
    report = json.loads((out / "intent_report.json").read_text())
    assert report["accuracy"] > 0.9 and "greet" in report and "macro avg" in report
    entities = json.loads((out / "entity_report.json").read_text())
    assert entities["city"]["support"] == 20 and "micro avg" in entities
    assert isinstance(json.loads((out / "errors.json").read_text()), list)
    for png in ("intent_confusion_matrix.png", "intent_histogram.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def _cross_validate(out: Path) -> Result:
    return runner.invoke(
        app, ["test", "nlu", "--cross-validation", "--folds", "2", "--config",
              str(FIXTURE / "config.yml"), "--nlu", str(FIXTURE / "data"), "--out", str(out)],
    )  # fmt: skip


def test_cross_validation_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "cv"
    result = _cross_validate(out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "intent_report.json").read_text())
    assert report["weighted avg"]["support"] == 41


def test_without_matplotlib_the_reports_are_written_and_the_plots_extra_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "parley.nlu.plots", raising=False)
    out = tmp_path / "cv"
    result = _cross_validate(out)
    assert result.exit_code == 0, result.output
    assert "pip install 'parley[plots]'" in result.output
    assert json.loads((out / "intent_report.json").read_text())["weighted avg"]["support"] == 41
    assert not list(out.glob("*.png"))
