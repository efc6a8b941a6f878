"""The `parley data validate` check for config references: every `${...}` must resolve.

Vault references are looked up only when Vault is configured and reachable; otherwise each
is reported as a warning, so validation works offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.project.errors import Location, ProblemSink
from parley.project.yamlio import read_yaml
from parley.security.config import (
    CREDENTIALS_FILE,
    ENDPOINTS_FILE,
    VAULT_SECTION,
    ProjectSecrets,
    check_config_file,
)
from parley.security.errors import SecretReferenceError, SecurityError
from parley.security.nodes import iter_scalars
from parley.security.redaction import SecretRegistry
from parley.security.references import ReferenceSyntaxError, split_references
from parley.security.resolve import Resolver
from parley.security.settings import SETTINGS_FILE
from parley.security.vault import VaultClient

if TYPE_CHECKING:
    from parley.project.loader import Project

CONFIG_FILES = (ENDPOINTS_FILE, CREDENTIALS_FILE, SETTINGS_FILE)


def _uses_vault(node: Any) -> bool:
    for item in iter_scalars(node):
        if isinstance(item.value, str) and "${vault:" in item.value:
            try:
                if any(not isinstance(s, str) for s in split_references(item.value)):
                    return True
            except ReferenceSyntaxError:
                continue
    return False


def _vault_unavailable(vault: VaultClient | None) -> str | None:
    """Why Vault references cannot be checked now, or None when they can."""
    if vault is None:
        return "Vault is not configured (set VAULT_ADDR or add a vault: section to endpoints.yml)"
    if not vault.is_reachable():
        return f"Vault at {vault.settings.address} is not reachable"
    return None


def check_config_references(
    root: Path,
    sink: ProblemSink,
    env: Mapping[str, str] | None = None,
    check_permissions: bool = True,
) -> None:
    """Report every reference in endpoints.yml, credentials.yml and parley.yml that fails.

    With `check_permissions` off, exposed secret and config files are not reported here
    (`parley doctor` reports them itself, with their severity).
    """
    secrets = ProjectSecrets(root, env, registry=SecretRegistry())
    nodes: dict[Path, Any] = {}
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file():
            scratch = ProblemSink()  # syntax errors are the loader's to report
            node = read_yaml(path, scratch)
            if name == SETTINGS_FILE:
                sink.problems.extend(scratch.problems)
            if isinstance(node, dict):
                nodes[path] = node
    vault: VaultClient | None = None
    try:
        vault = secrets.vault  # checks the vault: section's keys; no network yet
        unavailable = (
            _vault_unavailable(vault) if any(_uses_vault(n) for n in nodes.values()) else None
        )
    except SecretReferenceError:  # reported below, with positions, by the section's resolver
        unavailable = "the vault: section has values that do not resolve"
    except SecurityError as exc:
        sink.error(Location(secrets.endpoints_file), str(exc))
        unavailable = "the vault: settings are invalid"
    for path, node in nodes.items():
        try:
            if check_permissions:
                check_config_file(path, node)
        except SecurityError as exc:
            sink.error(Location(path, 1, 1), str(exc))
        resolver = Resolver(
            path,
            root,
            secrets.env,
            None if unavailable else vault,
            secrets.registry,
        )
        if path.name == ENDPOINTS_FILE and isinstance(node.get(VAULT_SECTION), dict):
            section_resolver = Resolver(path, root, secrets.env, None, secrets.registry)
            section_resolver.check_permissions = check_permissions
            section_resolver.resolve(node[VAULT_SECTION], VAULT_SECTION)
            resolver.problems.extend(section_resolver.problems)
        resolver.vault_unavailable = unavailable
        resolver.check_permissions = check_permissions
        resolver.resolve(node, skip=(VAULT_SECTION,) if path.name == ENDPOINTS_FILE else ())
        for problem in resolver.problems:
            sink.error(
                Location(path, problem.line, problem.column),
                f"{problem.key_path}: {problem.message} (reference {problem.reference})",
            )
        for problem in resolver.warnings:
            sink.warning(
                Location(path, problem.line, problem.column),
                f"{problem.key_path}: {problem.reference} {problem.message}",
            )


def check_secret_references(project: Project, sink: ProblemSink) -> None:
    """A `parley data validate` check: config references of the project resolve."""
    check_config_references(project.root, sink)
