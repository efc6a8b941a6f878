"""Errors of the security area: one family, messages that say what, where and what to do.

No message of this family ever holds a secret value: only file names, key paths and the
reference text (`${DB_PASSWORD}`), which names a secret without revealing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SecurityError(Exception):
    """Base of every error raised by `parley.security`."""


@dataclass(frozen=True)
class ReferenceProblem:
    """One value of a configuration file that cannot be resolved."""

    file: Path
    key_path: str
    reference: str
    message: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else f"{self.file}"
        return f"{where}: {self.key_path}: {self.message} (reference {self.reference})"


class SecretReferenceError(SecurityError):
    """References in a configuration file could not be resolved; `problems` lists each."""

    def __init__(self, problems: list[ReferenceProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InsecureFileError(SecurityError):
    """A secret file (or a config file holding secrets) others can read, or not owned by us."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(message)


class VaultError(SecurityError):
    """Vault is not configured, unreachable, refused us, or lacks the secret asked for."""
