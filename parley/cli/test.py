"""`parley test`: replay the test stories through the newest model and report what failed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.markup import escape

from parley.agent import Agent, AgentError
from parley.cli.app import console, err_console, test_app
from parley.models.archive import latest_model
from parley.project.loader import load_stories
from parley.testing import StoryResult, run_stories, write_results


def _model_path(model: Path | None) -> Path:
    if model is not None and model.is_file():
        return model
    folder = model if model is not None else Path("models")
    found = latest_model(folder)
    if found is None:
        err_console.print(f"error: no model in {folder}; train one with `parley train`")
        raise typer.Exit(1)
    return found


def _print_result(result: StoryResult) -> None:
    name = escape(result.case.name)
    if result.passed:
        console.print(f"[green]PASSED[/] {name}")
        return
    where = f" ({escape(result.case.source)})" if result.case.source else ""
    console.print(f"[red]FAILED[/] {name}{where}")
    for outcome in result.failures():
        got = f"[red]{escape(str(outcome.predicted))}[/]"
        if outcome.expected_entities != outcome.predicted_entities:
            got += f" with entities {escape(str(list(outcome.predicted_entities)))}"
        policy = f" [dim]({escape(outcome.policy)})[/]" if outcome.policy else ""
        console.print(
            f"    {outcome.kind} expected {escape(str(outcome.expected))}, got {got}{policy}"
        )


@test_app.callback(invoke_without_command=True)
def test(
    ctx: typer.Context,
    stories: list[Path] = typer.Option(
        [Path("tests")], "--stories", "-s", help="Test story files or folders."
    ),
    model: Path | None = typer.Option(
        None, "--model", "-m", help="Model archive or folder (default: newest in models/)."
    ),
    out: Path = typer.Option(Path("results"), "--out", help="Where the reports go."),
) -> None:
    """Replay the test stories (NLU and dialogue) and compare every prediction with them."""
    if ctx.invoked_subcommand is not None:
        return
    path = _model_path(model)
    test_stories = load_stories(list(stories))
    if not test_stories:
        err_console.print(f"error: no test stories in {', '.join(map(str, stories))}")
        raise typer.Exit(1)
    try:
        agent = Agent.load(path)
    except AgentError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from None
    console.print(f"Testing {len(test_stories)} stories with model {path.name}")
    results = asyncio.run(run_stories(agent, test_stories))
    for result in results:
        _print_result(result)
    files = write_results(results, out)
    failed = sum(not r.passed for r in results)
    console.print(f"Reports: {files['failed_stories']}, {files['report']}")
    console.print(f"{len(results) - failed} passed, {failed} failed", highlight=False)
    if failed:
        raise typer.Exit(1)
