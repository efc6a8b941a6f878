"""Shared by the store commands: read endpoints.yml, parse durations and times."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from parley.project.endpoints import Endpoints

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

PROJECT_OPTION = typer.Option(Path("."), "--project", "-p", help="Project folder.")
ENDPOINTS_OPTION = typer.Option(
    None, "--endpoints", help="Endpoints file (default: endpoints.yml in the project)."
)


def read_endpoints(project: Path, endpoints: Path | None) -> Endpoints:
    """The endpoints file with every secret reference resolved; empty when there is none."""
    from parley.project.endpoints import Endpoints
    from parley.security import ProjectSecrets

    if endpoints is not None and not endpoints.is_file():
        raise typer.BadParameter(f"endpoints file {endpoints} does not exist")
    file = endpoints.resolve() if endpoints is not None else None
    return Endpoints.parse(ProjectSecrets(project, endpoints_file=file).endpoints())


def parse_duration(text: str) -> float:
    """`90d`, `12h`, `30m`, `2w`, `45s` to seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration; write e.g. 90d, 12h, 30m or 2w")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_time(text: str | None) -> float | None:
    """An epoch timestamp or an ISO 8601 date/time to epoch seconds."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither an epoch timestamp nor an ISO date such as 2026-01-31T12:00"
        ) from None
