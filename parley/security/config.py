"""The runtime entry point: read a project's config files with every reference resolved.

    secrets = ProjectSecrets(project_root)      # hold one for the life of the process
    endpoints = secrets.endpoints()             # endpoints.yml, resolved (Vault values cached)
    credentials = secrets.credentials()         # credentials.yml, resolved
    settings = secrets.settings()               # parley.yml as typed ParleySettings

`load_endpoints(root)` / `load_credentials(root)` / `load_settings(root)` do the same once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parley.project.errors import ProblemSink, ProjectError
from parley.project.yamlio import read_yaml
from parley.security.errors import InsecureFileError, SecurityError, VaultError
from parley.security.nodes import plaintext_secrets
from parley.security.permissions import file_exposure
from parley.security.redaction import SECRETS, SecretRegistry
from parley.security.resolve import Resolver, resolve_value
from parley.security.settings import SETTINGS_FILE, ParleySettings
from parley.security.vault import VaultClient, VaultSettings

ENDPOINTS_FILE = "endpoints.yml"
CREDENTIALS_FILE = "credentials.yml"
VAULT_SECTION = "vault"


def read_config_node(path: Path) -> Any:
    """The parsed YAML of a config file with positions, {} when absent; ProjectError if broken."""
    if not path.is_file():
        return {}
    sink = ProblemSink()
    node = read_yaml(path, sink)
    if sink.has_errors:
        raise ProjectError(sink.problems)
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise SecurityError(f"{path}: the file must be a mapping of settings")
    return node


def check_config_file(path: Path, node: Any) -> None:
    """A config file holding plaintext secrets must be private, like a secret file."""
    found = plaintext_secrets(node)
    if not found or not path.is_file():
        return
    exposure = file_exposure(path)
    if exposure is not None:
        keys = ", ".join(f.key_path for f in found[:3])
        raise InsecureFileError(
            path,
            "refusing to read "
            + exposure.describe(f"config file holding plaintext secrets ({keys})")
            + "; better: move the values to ${ENV_VAR}, ${file:...} or ${vault:...} references",
        )


class ProjectSecrets:
    """Resolves a project's configuration; keeps one Vault client so its cache is shared."""

    def __init__(
        self,
        project_root: Path | str,
        env: Mapping[str, str] | None = None,
        registry: SecretRegistry | None = None,
        vault: VaultClient | None = None,
        endpoints_file: Path | str | None = None,
    ) -> None:
        """`endpoints_file` replaces the project's endpoints.yml (like `--endpoints`); a
        relative path is taken from the project folder."""
        self.project_root = Path(project_root)
        self.endpoints_file = self.project_root / (endpoints_file or ENDPOINTS_FILE)
        self.env: Mapping[str, str] = env if env is not None else os.environ
        self.registry = registry if registry is not None else SECRETS
        self._vault = vault
        self._vault_loaded = vault is not None

    def vault_settings(self) -> VaultSettings | None:
        """How to reach Vault (endpoints.yml `vault:` section, then VAULT_* variables)."""
        path = self.endpoints_file
        node = read_config_node(path)
        section = node.get(VAULT_SECTION) if isinstance(node, dict) else None
        resolved: dict[str, Any] = {}
        if isinstance(section, dict):
            resolver = Resolver(path, self.project_root, self.env, None, self.registry)
            resolved = resolver.resolve(section, VAULT_SECTION)
            resolver.raise_problems()
        elif section is not None:
            raise VaultError(f"{path}: the vault: section must be a mapping")
        return VaultSettings.from_sources(resolved, self.env, self.project_root)

    @property
    def vault(self) -> VaultClient | None:
        """The Vault client, or None when Vault is not configured (built on first use)."""
        if not self._vault_loaded:
            settings = self.vault_settings()
            self._vault = VaultClient(settings) if settings is not None else None
            self._vault_loaded = True
            if settings is not None:  # credentials from the environment are secrets too
                self.registry.update(v for v in (settings.token, settings.secret_id) if v)
        return self._vault

    def load(self, file_name: Path | str) -> dict[str, Any]:
        """Any YAML config file (relative to the project), resolved; {} when it does not exist.

        Raises InsecureFileError for an exposed file holding plaintext secrets,
        SecretReferenceError for references that do not resolve, ProjectError for bad YAML.
        """
        path = self.project_root / file_name
        node = read_config_node(path)
        check_config_file(path, node)
        resolver = Resolver(path, self.project_root, self.env, self.vault, self.registry)
        resolved = resolver.resolve(
            node, skip=(VAULT_SECTION,) if path == self.endpoints_file else ()
        )
        resolver.raise_problems()
        return dict(resolved)

    def resolve(self, text: str, source: str = "setting") -> str:
        """One value (a command-line option, an environment variable's content) resolved with
        this project's Vault; `source` names it in errors. Raises SecretReferenceError."""
        vault = self.vault if "${vault:" in text else None
        return resolve_value(
            text, self.project_root, vault, env=self.env, registry=self.registry, source=source
        )

    def endpoints(self) -> dict[str, Any]:
        """endpoints.yml resolved (its `vault:` section is configuration for this class only)."""
        return self.load(self.endpoints_file)

    def credentials(self) -> dict[str, Any]:
        return self.load(CREDENTIALS_FILE)

    def settings(self) -> ParleySettings:
        """parley.yml resolved and validated; defaults when the file does not exist."""
        data = self.load(SETTINGS_FILE)
        try:
            return ParleySettings.model_validate(data)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise SecurityError(f"{self.project_root / SETTINGS_FILE}: {details}") from None


def load_endpoints(
    project_root: Path | str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """endpoints.yml of `project_root`, every reference resolved (raises SecurityError)."""
    secrets = ProjectSecrets(project_root, env)
    return secrets.endpoints()


def load_credentials(
    project_root: Path | str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """credentials.yml of `project_root`, every reference resolved (raises SecurityError)."""
    secrets = ProjectSecrets(project_root, env)
    return secrets.credentials()


def load_settings(project_root: Path | str, env: Mapping[str, str] | None = None) -> ParleySettings:
    """parley.yml of `project_root` (Parley's own settings), resolved and validated."""
    secrets = ProjectSecrets(project_root, env)
    return secrets.settings()
