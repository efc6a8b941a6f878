"""Shared by `parley users`, `parley tokens` and `parley audit`: open the project's access store.

The access libraries (SQLAlchemy, argon2, ...) load when a command runs, not at every CLI start.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from parley.access.service import Access

T = TypeVar("T")
CLI_ACTOR = "cli:" + (os.environ.get("USER") or "unknown")  # who the audit log names


def when(epoch: float | None) -> str:
    """An epoch time as `YYYY-MM-DD HH:MM` (UTC), or `-`."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "-"


def run_with_access(project: Path, action: Callable[[Access], Awaitable[T]]) -> T:
    """Open the access store of `project` (parley.yml `access:`; SQLite parley.db when the
    section is absent), run `action`, close."""
    from parley.access.service import Access
    from parley.access.settings import AccessSettings
    from parley.cli.app import err_console
    from parley.security import ProjectSecrets

    configured = ProjectSecrets(project).settings().access
    if configured is None:
        err_console.print(
            "note: parley.yml has no `access:` section; `parley run` uses these users only "
            "once it has one (docs/access.md)",
            style="yellow",
        )
    settings = configured or AccessSettings()

    async def run() -> T:
        access = await Access.open(settings, project.resolve())
        try:
            return await action(access)
        finally:
            await access.close()

    return asyncio.run(run())


def read_password(from_stdin: bool) -> str:
    """A new password from stdin (for scripts) or typed twice at a prompt."""
    from parley.access.errors import AccessConfigError

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise AccessConfigError("the two passwords differ")
    return first


def audit_cli_action(
    project: Path, action: str, target: str | None = None, details: dict[str, object] | None = None
) -> None:
    """Record a data command (delete, purge, export) in the audit log when the project has
    access control (`access:` in parley.yml); nothing otherwise."""
    from parley.security import ProjectSecrets

    if ProjectSecrets(project).settings().access is None:
        return

    async def record(access: Access) -> None:
        await access.audit.record(CLI_ACTOR, action, target=target, details=details)

    run_with_access(project, record)
