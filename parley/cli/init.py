"""`parley init DIR`: a starter help-desk assistant worth starting from."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import typer

from parley.cli.app import app, console

TEMPLATE = "helpdesk"


def template_dir() -> Path:
    """Where the starter project's files are installed."""
    return Path(str(resources.files("parley.templates") / TEMPLATE))


@app.command("init")
def init(
    directory: Path = typer.Argument(..., help="Folder for the new project (created)."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that is not empty."),
) -> None:
    """Create a starter IT help-desk assistant: FAQs, password-reset form, handoff, tests."""
    if directory.exists() and any(directory.iterdir()) and not force:
        console.print(
            f"{directory} is not empty; choose a new folder or pass --force.", style="red"
        )
        raise typer.Exit(1)
    source = template_dir()
    shutil.copytree(
        source,
        directory,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py"),
    )
    console.print(f"Created a help-desk assistant in {directory}. Next:")
    console.print(f"  cd {directory} && parley train && parley shell", highlight=False)
