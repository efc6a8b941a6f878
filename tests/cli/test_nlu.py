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


def test_test_nlu_reports_out_of_scope_and_the_threshold_for_a_chosen_loss(
    tmp_path: Path,
) -> None:
    models = _train(tmp_path)
    data = tmp_path / "test_nlu.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n    - hi\n'
        "- intent: goodbye\n  examples: |\n    - bye bye\n    - goodbye then\n"
        "- intent: out_of_scope\n  examples: |\n    - asdkjh qwe\n    - Wie spät ist es?\n"
        "    - 😀😀\n"
    )
    out = tmp_path / "results"
    tested = runner.invoke(
        app, ["test", "nlu", "--model", str(models), "--nlu", str(data), "--out", str(out),
              "--in-scope-loss", "0.05"],
    )  # fmt: skip
    assert tested.exit_code == 0, tested.output
    assert "Out of scope: 3 messages" in tested.output
    curve = json.loads((out / "fallback_curve.json").read_text())
    assert curve["known_messages"] == 4 and curve["oos_messages"] == 3
    assert curve["in_scope_loss"] == 0.05
    # nonsense falls back at the model's threshold 0.3; the greetings do not
    assert curve["at_threshold"]["0.3"]["oos_recall"] == 1.0
    assert curve["at_threshold"]["0.3"]["known_fallback_rate"] == 0.0
    assert curve["at_loss"]["known_accuracy"] >= curve["known_accuracy"] - 0.05
    assert "FallbackClassifier threshold losing at most 5.0%" in tested.output
    assert (out / "fallback_curve.png").read_bytes()[:4] == b"\x89PNG"
