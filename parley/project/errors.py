"""Problems found in project files, each with the file, line and column it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A place in a project file; line and column are 1-based (0 means unknown)."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One finding of the loader or the validator."""

    location: Location
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


class ProjectError(Exception):
    """A project cannot be loaded; `problems` lists every error found (warnings too)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid project")


class ProblemSink:
    """Collects problems while files are read, so one run reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, "error", message))

    def warning(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, "warning", message))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
