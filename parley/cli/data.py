"""`parley data …`: validate project files."""

from __future__ import annotations

from pathlib import Path

import typer

from parley.cli.app import console, data_app


@data_app.command("validate")
def validate(
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    data: list[Path] | None = typer.Option(None, "--data", help="Data files or folders."),
    tests: list[Path] | None = typer.Option(None, "--tests", help="Test story files or folders."),
    fail_on_warnings: bool = typer.Option(False, help="Exit non-zero on warnings too."),
) -> None:
    """Check every project file; print each problem as path:line:column: severity: message."""
    from parley.validation import validate_project

    problems = validate_project(project, data or None, tests or None)
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(str(problem), style=style, markup=False, highlight=False, soft_wrap=True)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    console.print(f"{errors} error(s), {warnings} warning(s)", highlight=False)
    if errors or (fail_on_warnings and warnings):
        raise typer.Exit(1)


@data_app.command("export-story")
def export_story(
    sender_id: str = typer.Argument(..., help="The conversation (sender) id."),
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    endpoints: Path | None = typer.Option(
        None, "--endpoints", help="Endpoints file (default: endpoints.yml in the project)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the story file here (default: print it)."
    ),
) -> None:
    """Turn a stored conversation into a test story (Rasa's tests/test_*.yml format)."""
    import asyncio

    from parley.cli._stores import read_endpoints
    from parley.stores.factory import create_tracker_store
    from parley.studio.story import story_yaml

    config = read_endpoints(project, endpoints)

    async def load() -> list[dict[str, object]] | None:
        store = await create_tracker_store(config, project)
        try:
            return await store.load(sender_id)
        finally:
            await store.close()

    events = asyncio.run(load())
    if events is None:
        console.print(f"No conversation {sender_id!r} in the tracker store.", style="red")
        raise typer.Exit(1)
    text = story_yaml(sender_id, events)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists():
        console.print(f"{out} exists; choose another file (stories are not merged).", style="red")
        raise typer.Exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"Wrote {out}.", highlight=False)
