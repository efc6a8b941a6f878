"""`parley train`: train NLU and dialogue into one archive under models/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import app, console

if TYPE_CHECKING:
    from parley.project.config import ProjectConfig
    from parley.training import TrainingResult

train_app = typer.Typer(help="Train a model (NLU and dialogue) into models/.")
app.add_typer(train_app, name="train")


def _report(result: TrainingResult) -> None:
    if result.skipped:
        console.print(f"Nothing changed; the newest model is up to date: {result.model}")
        return
    reused = f" (reused: {', '.join(result.reused)})" if result.reused else ""
    console.print(f"Trained {', '.join(result.trained)}{reused} -> {result.model}")


@train_app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    out: Path = typer.Option(Path("models"), "--out", help="Where model archives go."),
    force: bool = typer.Option(False, "--force", help="Retrain even when nothing changed."),
) -> None:
    """Train every part of the model (NLU and dialogue)."""
    if ctx.invoked_subcommand is not None:
        return
    from parley.project.loader import load_project
    from parley.training import train_project

    loaded = load_project(project)
    _report(train_project(loaded, project / out if not out.is_absolute() else out, force=force))


def _read_config(path: Path) -> ProjectConfig:
    from parley.project.config import parse_config
    from parley.project.errors import ProblemSink, ProjectError
    from parley.project.yamlio import read_yaml

    sink = ProblemSink()
    config = parse_config(path, read_yaml(path, sink), sink)
    if sink.has_errors:
        raise ProjectError(sink.problems)
    return config


@train_app.command("nlu")
def train_nlu(
    config: Path = typer.Option(Path("config.yml"), "--config", "-c", help="Pipeline config."),
    nlu: list[Path] = typer.Option(
        [Path("data")], "--nlu", "-u", help="NLU data files or folders."
    ),
    out: Path = typer.Option(Path("models"), "--out", help="Where model archives go."),
    force: bool = typer.Option(False, "--force", help="Retrain even when nothing changed."),
) -> None:
    """Train only the NLU pipeline."""
    from parley.cli.progress import progress_bar
    from parley.nlu.part import NLUPart
    from parley.project.config import ProjectConfig
    from parley.project.loader import Project, load_nlu_data
    from parley.training import train_project

    project = Project(
        root=Path("."),
        config=_read_config(config) if config.is_file() else ProjectConfig(),
        nlu=load_nlu_data(list(nlu)),
    )
    with progress_bar("NLU") as step:
        result = train_project(project, out, parts=[NLUPart(progress=step)], force=force)
    _report(result)
