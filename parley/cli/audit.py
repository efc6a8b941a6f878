"""`parley audit`: read the audit log with filters, and verify its hash chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli._access import run_with_access, when
from parley.cli._stores import PROJECT_OPTION, parse_time
from parley.cli.app import app, console

if TYPE_CHECKING:
    from parley.access.service import Access

audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("list")
def list_rows(
    actor: str | None = typer.Option(None, "--actor", help="Only this user (or cli:NAME)."),
    action: str | None = typer.Option(None, "--action", help="e.g. login, role_change."),
    target: str | None = typer.Option(None, "--target", help="The user, token or conversation."),
    result: str | None = typer.Option(None, "--result", help="ok, failed or denied."),
    since: str | None = typer.Option(None, "--since", help="ISO time or epoch seconds."),
    until: str | None = typer.Option(None, "--until", help="ISO time or epoch seconds."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
    project: Path = PROJECT_OPTION,
) -> None:
    """Audit rows, newest first."""
    from parley.access.audit import AuditFilter

    where = AuditFilter(actor, action, target, result, parse_time(since), parse_time(until), limit)

    async def act(access: Access) -> list[dict[str, object]]:
        return [entry.public() for entry in await access.audit.query(where)]

    for row in run_with_access(project, act):
        if as_json:
            typer.echo(json.dumps(row))
            continue
        console.print(
            f"{row['id']:>6} {when(row['at'])} {row['actor']:<20} {row['action']:<16} "  # type: ignore[arg-type]
            f"{row['target'] or '-':<24} {row['result']:<7} {row['ip'] or '-'} "
            f"{json.dumps(row['details']) if row['details'] else ''}",
            highlight=False,
            markup=False,
        )


@audit_app.command("verify")
def verify(project: Path = PROJECT_OPTION) -> None:
    """Check the hash chain: exit 1 when a row was edited, inserted or removed in the middle."""

    async def act(access: Access) -> tuple[int, list[tuple[int, str]]]:
        checked, breaks = await access.audit.verify()
        return checked, [(b.row_id, b.reason) for b in breaks]

    checked, breaks = run_with_access(project, act)
    for row_id, reason in breaks:
        console.print(f"row {row_id}: {reason}", style="red", highlight=False)
    if breaks:
        console.print(
            f"The audit log was tampered with ({len(breaks)} break(s) in {checked} rows)."
        )
        raise typer.Exit(1)
    console.print(f"The audit log is intact: {checked} row(s) verified.")
