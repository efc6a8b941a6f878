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
