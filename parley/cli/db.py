"""`parley db migrate`: bring the configured stores' schemas up to date, then exit.

Deployments run it once per release (a Kubernetes Job, a compose one-shot service) before the
servers start, so replicas never race to migrate.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from parley.cli.app import app

db_app = typer.Typer(help="Database tasks: `parley db migrate`.")
app.add_typer(db_app, name="db")


@db_app.command("migrate")
def migrate(
    project: Path = typer.Option(Path("."), "--project", help="Project folder."),
    endpoints: Path = typer.Option(None, "--endpoints", help="Default: endpoints.yml."),
) -> None:
    """Open the tracker, lock and broker stores of endpoints.yml (migrating them) and close."""
    from parley.server.bootstrap import ProjectFiles, check_stores
    from parley.server.config import ServerConfig

    asyncio.run(check_stores(ProjectFiles(project, endpoints=endpoints), ServerConfig()))
    typer.echo("The stores are up to date.")
