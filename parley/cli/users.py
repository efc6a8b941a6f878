"""`parley users`: create, list, change role, disable, unlock, log out and delete users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli._access import CLI_ACTOR, read_password, run_with_access, when
from parley.cli._stores import PROJECT_OPTION
from parley.cli.app import app, console

if TYPE_CHECKING:
    from parley.access.service import Access

users_app = typer.Typer(help="Manage Parley users (access control).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create")
def create(
    username: str = typer.Argument(..., help="The login name."),
    role: str = typer.Option(..., "--role", "-r", help="admin, content_manager, annotator, ..."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin instead of a prompt."
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="No local password (an API-token-only or service user)."
    ),
    project: Path = PROJECT_OPTION,
) -> None:
    """Create a local user (argon2id password hash)."""
    password = None if no_password else read_password(password_stdin)

    async def act(access: Access) -> None:
        await access.create_user(CLI_ACTOR, username, role, password)

    run_with_access(project, act)
    console.print(f"Created user {username!r} with role {role}.", highlight=False)


@users_app.command("list")
def list_users(
    project: Path = PROJECT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every user with role, source and state."""

    async def act(access: Access) -> list[dict[str, object]]:
        return [user.public() for user in await access.users.list()]

    users = run_with_access(project, act)
    if as_json:
        typer.echo(json.dumps(users, indent=2))
        return
    for user in users:
        state = "disabled" if user["disabled"] else "locked" if user["locked"] else "active"
        console.print(
            f"{user['username']:<24} {user['role']:<16} {user['source']:<6} {state:<8} "
            f"last login {when(user['last_login'])}",  # type: ignore[arg-type]
            highlight=False,
        )


@users_app.command("set-role")
def set_role(
    username: str = typer.Argument(...),
    role: str = typer.Argument(..., help="The new role."),
    project: Path = PROJECT_OPTION,
) -> None:
    """Give a user another role (SSO users get theirs re-mapped at their next login)."""
    run_with_access(project, lambda access: access.set_role(CLI_ACTOR, username, role))
    console.print(f"{username!r} now has role {role}.", highlight=False)


@users_app.command("set-password")
def set_password(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read it from stdin."),
    project: Path = PROJECT_OPTION,
) -> None:
    """Set a local user's password (ends their sessions)."""
    password = read_password(password_stdin)
    run_with_access(project, lambda access: access.set_password(CLI_ACTOR, username, password))
    console.print(f"Password of {username!r} changed; their sessions ended.", highlight=False)


@users_app.command("disable")
def disable(username: str = typer.Argument(...), project: Path = PROJECT_OPTION) -> None:
    """Refuse a user's logins and tokens, and end their sessions."""
    run_with_access(project, lambda access: access.set_disabled(CLI_ACTOR, username, True))
    console.print(f"Disabled {username!r}.", highlight=False)


@users_app.command("enable")
def enable(username: str = typer.Argument(...), project: Path = PROJECT_OPTION) -> None:
    """Enable a disabled user and clear a lockout after failed logins."""
    run_with_access(project, lambda access: access.set_disabled(CLI_ACTOR, username, False))
    console.print(f"Enabled {username!r}.", highlight=False)


@users_app.command("logout")
def logout(username: str = typer.Argument(...), project: Path = PROJECT_OPTION) -> None:
    """End every session of a user (logout everywhere)."""
    ended = run_with_access(project, lambda a: a.logout_everywhere(CLI_ACTOR, username))
    console.print(f"Ended {ended} session(s) of {username!r}.", highlight=False)


@users_app.command("delete")
def delete(username: str = typer.Argument(...), project: Path = PROJECT_OPTION) -> None:
    """Delete a user with their sessions; their API tokens are revoked."""
    run_with_access(project, lambda access: access.delete_user(CLI_ACTOR, username))
    console.print(f"Deleted {username!r}.", highlight=False)


@users_app.command("totp")
def totp(username: str = typer.Argument(...), project: Path = PROJECT_OPTION) -> None:
    """Turn on a TOTP second factor for a local user; prints the secret and otpauth:// URI
    once (add it to an authenticator app)."""
    from parley.access.passwords import new_totp_secret, totp_uri

    secret = new_totp_secret()

    async def act(access: Access) -> None:
        await access.set_totp(CLI_ACTOR, username, secret)

    run_with_access(project, act)
    typer.echo(f"secret: {secret}\nuri: {totp_uri(secret, username)}")
