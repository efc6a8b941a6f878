"""`parley shell nlu` and `parley test nlu`: talk to / evaluate the NLU part of a model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import console, shell_app, test_app
from parley.models.archive import latest_model

if TYPE_CHECKING:
    from parley.nlu.evaluate import Evaluation


def _model(model: Path | None) -> Path:
    from parley.nlu import NLUError

    if model is not None and model.is_file():
        return model
    folder = model if model is not None else Path("models")
    found = latest_model(folder)
    if found is None:
        raise NLUError(f"no model in {folder}; train one with `parley train nlu`")
    return found


@shell_app.command("nlu")
def shell_nlu(
    model: Path | None = typer.Option(
        None, "--model", "-m", help="Model archive or folder (default: newest in models/)."
    ),
) -> None:
    """Type messages and see how the NLU parses them (Ctrl-D or /stop to quit)."""
    from parley.nlu import load

    path = _model(model)
    interpreter = load(path)
    console.print(f"NLU model {path.name} loaded. Type a message; Ctrl-D or /stop to quit.")
    interactive = sys.stdin.isatty()
    while True:
        try:
            text = input("Your input -> " if interactive else "")
        except EOFError:
            break
        if text.strip() == "/stop":
            break
        if text.strip():
            console.print_json(json.dumps(interpreter.parse(text), ensure_ascii=False))


def _summary(result: Evaluation, files: dict[str, Path]) -> None:
    intents = result.intent_report()
    entities = result.entity_report()["micro avg"]
    console.print(
        f"Intents: accuracy {intents['accuracy']:.4f}, macro F1 "
        f"{intents['macro avg']['f1-score']:.4f} on {len(result.gold_intents)} messages"
    )
    if entities["support"]:
        console.print(
            f"Entities: micro F1 {entities['f1-score']:.4f} "
            f"(precision {entities['precision']:.4f}, recall {entities['recall']:.4f})"
        )
    console.print(f"{len(result.errors())} intent error(s); reports in {files['errors'].parent}")
    if "confusion_matrix" not in files:
        from parley.nlu.evaluate import PLOTS_EXTRA

        console.print(
            f"No plots: they need matplotlib; install it with `pip install '{PLOTS_EXTRA}'`.",
            style="yellow",
            markup=False,
        )


@test_app.command("nlu")
def test_nlu(
    model: Path | None = typer.Option(
        None, "--model", "-m", help="Model archive (default: newest in models/)."
    ),
    nlu: list[Path] = typer.Option(
        [Path("tests")], "--nlu", "-u", help="Labelled NLU data (files or folders)."
    ),
    out: Path = typer.Option(Path("results"), "--out", help="Where reports and plots go."),
    cross_validation: bool = typer.Option(
        False, "--cross-validation", help="Train and test on folds of --nlu instead of a model."
    ),
    folds: int = typer.Option(5, "--folds", "-f", min=2, help="Number of folds."),
    config: Path = typer.Option(
        Path("config.yml"), "--config", "-c", help="Pipeline config (cross-validation)."
    ),
) -> None:
    """Evaluate intents and entities: intent_report.json, entity_report.json, errors.json, plots."""
    # scikit-learn loads here, not when any `parley` command starts (start-up time).
    from parley.cli.progress import progress_bar
    from parley.cli.train import _read_config
    from parley.nlu import NLUError, load
    from parley.nlu.evaluate import cross_validate, evaluate, write_reports
    from parley.project.config import ProjectConfig
    from parley.project.loader import load_nlu_data

    data = load_nlu_data(list(nlu))
    if not data.examples:
        raise NLUError(f"no labelled NLU examples in {', '.join(map(str, nlu))}")
    if cross_validation:
        pipeline_config = _read_config(config) if config.is_file() else ProjectConfig()
        with progress_bar("Cross-validation") as step:
            result = cross_validate(pipeline_config, data, folds, step)
    else:
        interpreter = load(_model(model))
        result = evaluate(interpreter.pipeline, data.examples)
    _summary(result, write_reports(result, out))
