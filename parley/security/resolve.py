"""Resolve `${...}` references in configuration values (env, file, Vault) into plain data.

    resolve_config(raw, source_file, project_root, vault) -> dict

Every problem of a file is collected and raised together as one SecretReferenceError naming
the file, line, key path and reference; a missing value is never replaced by "".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from parley.project.yamlio import plain
from parley.security.errors import (
    InsecureFileError,
    ReferenceProblem,
    SecretReferenceError,
    VaultError,
)
from parley.security.nodes import join_key, looks_secret, value_position
from parley.security.permissions import check_private_file
from parley.security.redaction import SECRETS, SecretRegistry
from parley.security.references import (
    Reference,
    ReferenceSyntaxError,
    split_references,
)
from parley.security.vault import VaultClient


@dataclass
class Resolver:
    """Resolves references for one configuration file, collecting problems as it goes.

    `vault_unavailable`, when set, says why Vault references are not looked up: they then
    become warnings (used by `parley data validate` when Vault is not configured or down).
    """

    source_file: Path
    project_root: Path
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    vault: VaultClient | None = None
    registry: SecretRegistry = field(default_factory=lambda: SECRETS)
    vault_unavailable: str | None = None
    check_permissions: bool = True
    problems: list[ReferenceProblem] = field(default_factory=list)
    warnings: list[ReferenceProblem] = field(default_factory=list)

    def resolve(self, node: Any, parent: str = "", skip: tuple[str, ...] = ()) -> Any:
        """A plain copy of `node` with every reference replaced by its value.

        Top-level keys in `skip` are left out of the copy (endpoints.yml's `vault:` section).
        """
        if isinstance(node, dict):
            return {plain(k): self._child(node, k, parent, str(k)) for k in node if k not in skip}
        if isinstance(node, list):
            return [
                self._child(node, i, parent, parent.rsplit(".", 1)[-1]) for i in range(len(node))
            ]
        return plain(node)

    def _child(self, container: Any, key: Any, parent: str, name: str) -> Any:
        value = container[key]
        path = join_key(parent, key)
        if isinstance(value, dict | list):
            return self.resolve(value, path)
        if isinstance(value, str) and "${" in value:
            line, column = value_position(container, key)
            return self.resolve_text(value, path, name, line, column)
        if isinstance(value, str) and looks_secret(name):
            self.registry.add(value)  # a plaintext secret still must not reach the logs
        return plain(value)

    def resolve_text(
        self, text: str, key_path: str, key: str = "", line: int = 0, column: int = 0
    ) -> str:
        """`text` with its references resolved; on failure a problem is recorded."""

        def problem(reference: str, message: str) -> ReferenceProblem:
            return ReferenceProblem(
                self.source_file, key_path, reference, message, line=line, column=column
            )

        try:
            segments = split_references(str(text))
        except ReferenceSyntaxError as exc:
            self.problems.append(problem(str(text), str(exc)))
            return ""
        parts: list[str] = []
        for segment in segments:
            if isinstance(segment, str):
                parts.append(segment)
                continue
            try:
                parts.append(self._lookup(segment, key))
            except _Skipped as skip:
                self.warnings.append(problem(segment.text, str(skip)))
            except (_Missing, VaultError, InsecureFileError) as exc:
                self.problems.append(problem(segment.text, str(exc)))
        return "".join(parts)

    def _lookup(self, reference: Reference, key: str) -> str:
        if reference.kind == "env":
            value = self.env.get(reference.name)
            if not value:
                if reference.default is None:
                    state = "is empty" if value == "" else "is not set"
                    raise _Missing(
                        f"environment variable {reference.name} {state}; set it, or write "
                        f"${{{reference.name}:-default}} for a default"
                    )
                return reference.default
            if looks_secret(key) or looks_secret(reference.name):
                self.registry.add(value)
            return value
        read = self._read_file if reference.kind == "file" else self._read_vault
        value = read(reference)
        self.registry.add(value)
        return value

    def _read_file(self, reference: Reference) -> str:
        path = Path(reference.name).expanduser()
        path = path if path.is_absolute() else self.project_root / path
        if not path.is_file():
            raise _Missing(f"secret file {path} does not exist")
        if self.check_permissions:
            check_private_file(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _Missing(f"cannot read secret file {path}: {exc}") from None
        return text[:-1] if text.endswith("\n") else text

    def _read_vault(self, reference: Reference) -> str:
        if self.vault_unavailable is not None:
            raise _Skipped(f"not checked: {self.vault_unavailable}")
        if self.vault is None:
            raise _Missing(
                "Vault is not configured: set VAULT_ADDR (and VAULT_TOKEN or VAULT_ROLE_ID/"
                "VAULT_SECRET_ID) or add a vault: section to endpoints.yml"
            )
        return self.vault.read(reference.mount, reference.path, reference.key)

    def raise_problems(self) -> None:
        if self.problems:
            raise SecretReferenceError(self.problems)


class _Missing(Exception):
    """A referenced variable, file or key does not exist."""


class _Skipped(Exception):
    """A reference was not looked up (Vault unavailable during a check)."""


def resolve_config(
    raw: Mapping[str, Any],
    source_file: Path,
    project_root: Path,
    vault: VaultClient | None = None,
    *,
    env: Mapping[str, str] | None = None,
    registry: SecretRegistry | None = None,
) -> dict[str, Any]:
    """A plain copy of `raw` (a parsed config file) with every `${...}` resolved.

    Resolved file and Vault values, and env values under secret-looking keys, are added to
    `registry` (the process-wide `SECRETS` by default) so logs and errors redact them.
    Positions are reported when `raw` is the ruamel node read from `source_file`.
    Raises SecretReferenceError listing every value that cannot be resolved.
    """
    resolver = Resolver(
        source_file,
        project_root,
        env if env is not None else os.environ,
        vault,
        registry if registry is not None else SECRETS,
    )
    resolved = resolver.resolve(raw if isinstance(raw, CommentedMap) else dict(raw))
    resolver.raise_problems()
    return dict(resolved)


def resolve_value(
    text: str,
    project_root: Path,
    vault: VaultClient | None = None,
    *,
    env: Mapping[str, str] | None = None,
    registry: SecretRegistry | None = None,
    source: str = "setting",
) -> str:
    """Resolve one value (a command-line option, an environment variable's content)."""
    resolver = Resolver(
        Path(source),
        project_root,
        env if env is not None else os.environ,
        vault,
        registry if registry is not None else SECRETS,
    )
    value = resolver.resolve_text(text, source, source)
    resolver.raise_problems()
    return value
