"""Entry point of the `parley` console script."""

from __future__ import annotations

import logging
import os
import sys

import typer

from parley import __version__
from parley.cli import audit as _audit  # noqa: F401
from parley.cli import data as _data  # noqa: F401  (registers commands)
from parley.cli import doctor as _doctor  # noqa: F401
from parley.cli import export as _export  # noqa: F401
from parley.cli import init as _init  # noqa: F401
from parley.cli import keys as _keys  # noqa: F401
from parley.cli import nlu as _nlu  # noqa: F401
from parley.cli import retention as _retention  # noqa: F401
from parley.cli import run as _run  # noqa: F401
from parley.cli import shell as _shell  # noqa: F401
from parley.cli import test as _test  # noqa: F401
from parley.cli import tokens as _tokens  # noqa: F401
from parley.cli import train as _train  # noqa: F401
from parley.cli import users as _users  # noqa: F401
from parley.cli.app import app, err_console


def _version(value: bool) -> None:
    if value:
        typer.echo(f"parley {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level."),
) -> None:
    """Parley: build, test and serve production conversational assistants."""
    from parley.security.redaction import install_redaction

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_redaction()  # resolved secrets and token shapes never reach a log line


def _known_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's to fix: one line, exit 1. Imported only when one happened, so
    a command's start does not pay for the modules that define them."""
    from parley.access.errors import AccessError
    from parley.agent import AgentError
    from parley.project.endpoints import EndpointsError
    from parley.security.errors import SecurityError
    from parley.stores.errors import StoreError

    return (SecurityError, StoreError, AgentError, EndpointsError, AccessError)


def run() -> None:
    """Run the CLI; a known error becomes a clear message, never a traceback."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Aborted.")
        sys.exit(1)
    except Exception as exc:  # the edge: turn anything unexpected into one line
        from parley.project.errors import ProjectError
        from parley.security.redaction import redact

        if isinstance(exc, ProjectError):
            for problem in exc.problems:
                err_console.print(
                    redact(str(problem)), markup=False, highlight=False, soft_wrap=True
                )
            sys.exit(1)
        if isinstance(exc, _known_errors()):
            err_console.print(f"error: {redact(str(exc))}", markup=False, highlight=False)
            sys.exit(1)
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()  # a usage error from the command-line parser
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if os.environ.get("PARLEY_DEBUG"):
            raise
        err_console.print(f"error: {redact(str(exc))}", markup=False, highlight=False)
        err_console.print("(set PARLEY_DEBUG=1 to see the traceback)", style="dim")
        sys.exit(2)


if __name__ == "__main__":
    run()
