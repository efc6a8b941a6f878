"""`parley test`: replay the test stories through the newest model and report what failed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from parley.cli.app import console, err_console, test_app
from parley.models.archive import latest_model

if TYPE_CHECKING:
    from parley.agent import Agent
    from parley.project.stories import Rule, Story
    from parley.testing import StoryResult


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
    console.print(f"[red]FAILED[/] {name}{where}", soft_wrap=True)
    for outcome in result.failures():
        got = f"[red]{escape(str(outcome.predicted))}[/]"
        if outcome.expected_entities != outcome.predicted_entities:
            got += f" with entities {escape(str(list(outcome.predicted_entities)))}"
        policy = f" [dim]({escape(outcome.policy)})[/]" if outcome.policy else ""
        console.print(
            f"    {outcome.kind} expected {escape(str(outcome.expected))}, got {got}{policy}",
            soft_wrap=True,
        )


async def _run(
    agent: Agent, stories: tuple[Story, ...], rules: tuple[Rule, ...], live: bool
) -> list[StoryResult]:
    from parley.testing import run_stories, run_stories_live

    try:
        if live:
            return await run_stories_live(agent, stories)
        return await run_stories(agent, stories, rules)
    finally:
        if agent.action_runner is not None:
            await agent.action_runner.close()
        await agent.close()


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
    live: bool = typer.Option(
        False,
        "--live",
        help="Run the conversations for real (custom actions through endpoints.yml, forms, "
        "slot mappings) and check slot_was_set/active_loop steps; default: replay as Rasa.",
    ),
    project: Path = typer.Option(
        Path("."), "--project", "-p", help="Project folder (its endpoints.yml, for --live)."
    ),
) -> None:
    """Replay the test stories (NLU and dialogue) and compare every prediction with them."""
    if ctx.invoked_subcommand is not None:
        return
    from parley.action_runners.errors import ActionConfigError
    from parley.action_runners.factory import load_action_runner
    from parley.agent import Agent, AgentError
    from parley.project.loader import load_rules, load_stories
    from parley.testing import write_results

    path = _model_path(model)
    test_stories = load_stories(list(stories))
    # rules in the given files are replayed too (`rasa test core` skips them)
    test_rules = () if live else load_rules(list(stories))
    if not test_stories and not test_rules:
        err_console.print(f"error: no test stories in {', '.join(map(str, stories))}")
        raise typer.Exit(1)
    try:
        runner = load_action_runner(project) if live else None
        agent = Agent.load(path, action_runner=runner)
    except (AgentError, ActionConfigError) as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(1) from None
    how = "Running" if live else "Testing"
    rules = f" and {len(test_rules)} rules" if test_rules else ""
    console.print(f"{how} {len(test_stories)} stories{rules} with model {path.name}")
    results = asyncio.run(_run(agent, test_stories, test_rules, live))
    for result in results:
        _print_result(result)
    files = write_results(results, out)
    failed = sum(not r.passed for r in results)
    console.print(f"Reports: {files['failed_stories']}, {files['report']}")
    from parley.cli.rollout import record_test_figures

    record_test_figures(
        project,
        path,
        "test_live" if live else "test",
        {"passed": len(results) - failed, "total": len(results)},
    )
    console.print(f"{len(results) - failed} passed, {failed} failed", highlight=False)
    if failed:
        raise typer.Exit(1)
