"""`parley doctor`: a security audit of a project and its deployment settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import app, console

if TYPE_CHECKING:
    from rich.table import Table

    from parley.security.doctor import Finding

_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def findings_table(findings: list[Finding]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="parley doctor", show_lines=True)
    table.add_column("severity")
    table.add_column("check", overflow="fold")
    table.add_column("where", overflow="fold")
    table.add_column("finding / fix", overflow="fold", ratio=1)
    for finding in findings:
        table.add_row(
            f"[{_STYLES[finding.severity]}]{finding.severity}[/]",
            finding.check,
            finding.where,
            Text(finding.message) + Text(f"\nfix: {finding.fix}", style="dim"),
        )
    return table


@app.command("doctor")
def doctor(
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    bind: str | None = typer.Option(
        None, "--bind", help="Host the server binds (default: server.host of parley.yml)."
    ),
    production: bool = typer.Option(False, "--production", help="Apply production-only checks."),
) -> None:
    """Audit secrets, TLS, auth and logging; exit 1 on any high or critical finding."""
    from parley.security.doctor import audit

    findings = audit(project, bind=bind, production=production)
    if not findings:
        console.print("No security findings.")
        return
    console.print(findings_table(findings))
    counts = ", ".join(
        f"{sum(f.severity == s for f in findings)} {s}"
        for s in ("critical", "high", "medium", "low")
    )
    console.print(counts, highlight=False)
    if any(f.blocking for f in findings):
        raise typer.Exit(1)
