"""`parley tokens`: create (shown once), list and revoke API tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli._access import CLI_ACTOR, run_with_access, when
from parley.cli._stores import PROJECT_OPTION, parse_duration
from parley.cli.app import app, console

if TYPE_CHECKING:
    from parley.access.service import Access

tokens_app = typer.Typer(help="Manage API tokens for automation and CI.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def create(
    username: str = typer.Argument(..., help="The user the token acts as."),
    name: str = typer.Option(..., "--name", "-n", help="What the token is for (e.g. ci)."),
    scope: list[str] = typer.Option(
        [], "--scope", "-s", help="A permission (repeatable); default: all of the user's role."
    ),
    expires: str = typer.Option("90d", "--expires", help="Lifetime, e.g. 30d, 12h; 'never'."),
    project: Path = PROJECT_OPTION,
) -> None:
    """Create a token; it is printed once and only its hash is stored."""
    expires_at = None if expires == "never" else time.time() + parse_duration(expires)

    async def act(access: Access) -> str:
        text, _ = await access.create_token(CLI_ACTOR, username, name, scope, expires_at)
        return text

    text = run_with_access(project, act)
    console.print("Store this token now; it is not shown again:", style="yellow")
    typer.echo(text)


@tokens_app.command("list")
def list_tokens(
    username: str | None = typer.Option(None, "--user", "-u", help="Only this user's tokens."),
    project: Path = PROJECT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Tokens with owner, scopes, expiry and last use (never the token itself)."""

    async def act(access: Access) -> list[dict[str, object]]:
        return [token.public() for token in await access.tokens.list(username)]

    tokens = run_with_access(project, act)
    if as_json:
        typer.echo(json.dumps(tokens, indent=2))
        return
    for token in tokens:
        state = "revoked" if token["revoked"] else f"expires {when(token['expires_at'])}"  # type: ignore[arg-type]
        console.print(
            f"{token['id']}  {token['username']:<20} {token['name']:<16} {state:<26} "
            f"{' '.join(token['scopes'])}",  # type: ignore[arg-type]
            highlight=False,
        )


@tokens_app.command("revoke")
def revoke(token_id: str = typer.Argument(..., help="The id from `parley tokens list`."),
           project: Path = PROJECT_OPTION) -> None:  # fmt: skip
    """Revoke a token at once."""
    if not run_with_access(project, lambda access: access.revoke_token(CLI_ACTOR, token_id)):
        console.print(f"No active token {token_id!r}.", highlight=False)
        raise typer.Exit(1)
    console.print(f"Revoked token {token_id}.", highlight=False)
