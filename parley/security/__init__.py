"""Secrets and configuration security: references (env, file, Vault), redaction, doctor."""

from parley.security.config import (
    ProjectSecrets,
    load_credentials,
    load_endpoints,
    load_settings,
)
from parley.security.errors import (
    InsecureFileError,
    ReferenceProblem,
    SecretReferenceError,
    SecurityError,
    VaultError,
)
from parley.security.permissions import check_private_file
from parley.security.redaction import (
    SECRETS,
    RedactingFilter,
    SecretRegistry,
    install_redaction,
    redact,
    redact_data,
)
from parley.security.resolve import resolve_config, resolve_value
from parley.security.settings import ParleySettings, ServerSettings, is_loopback
from parley.security.vault import VaultClient, VaultSettings

__all__ = [
    "SECRETS",
    "InsecureFileError",
    "ParleySettings",
    "ProjectSecrets",
    "RedactingFilter",
    "ReferenceProblem",
    "SecretReferenceError",
    "SecretRegistry",
    "SecurityError",
    "ServerSettings",
    "VaultClient",
    "VaultError",
    "VaultSettings",
    "check_private_file",
    "install_redaction",
    "is_loopback",
    "load_credentials",
    "load_endpoints",
    "load_settings",
    "redact",
    "redact_data",
    "resolve_config",
    "resolve_value",
]
