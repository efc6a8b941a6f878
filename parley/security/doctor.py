"""`parley doctor`: audit a project and its deployment settings for security problems.

Each finding has a severity (critical, high, medium, low), where it was found, what is wrong
and what to do. No finding ever shows a secret value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from parley.project.errors import ProblemSink
from parley.project.yamlio import read_yaml
from parley.security.checks import CONFIG_FILES, check_config_references
from parley.security.config import ENDPOINTS_FILE, VAULT_SECTION
from parley.security.nodes import iter_scalars, plaintext_secrets
from parley.security.permissions import FileExposure, file_exposure
from parley.security.redaction import SecretRegistry
from parley.security.references import Reference, ReferenceSyntaxError, split_references
from parley.security.resolve import Resolver
from parley.security.settings import SETTINGS_FILE, ParleySettings, is_loopback

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
MIN_TOKEN_LENGTH = 32  # 256 bits of hex/base64-ish text; HS256 wants a key at least this long
DEFAULT_TOKENS = frozenset(
    {"changeme", "change-me", "secret", "token", "password", "admin", "rasa", "parley",
     "thisismysecret", "mysecret", "test", "default", "example", "12345678"}
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One problem found by the audit."""

    severity: Severity
    check: str
    where: str
    message: str
    fix: str

    @property
    def blocking(self) -> bool:
        """High and critical findings make `parley doctor` exit non-zero."""
        return self.severity in ("critical", "high")


def audit(
    project_root: Path,
    bind: str | None = None,
    production: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every finding for the project at `project_root`, most severe first.

    `bind` is the host `parley run` listens on (default: parley.yml's server.host);
    `production` turns on the checks that only matter in production (debug logging).
    """
    env = env if env is not None else os.environ
    nodes = _read_nodes(project_root)
    findings = [
        *_file_findings(project_root, nodes),
        *_reference_findings(project_root, env),
        *_endpoint_findings(project_root, nodes),
        *_settings_findings(project_root, nodes, env, bind, production),
    ]
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def _read_nodes(root: Path) -> dict[Path, Any]:
    nodes: dict[Path, Any] = {}
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file():
            node = read_yaml(path, ProblemSink())
            if isinstance(node, dict):
                nodes[path] = node
    return nodes


def _at(path: Path, line: int = 0) -> str:
    return f"{path}:{line}" if line else str(path)


def _exposure_severity(exposure: FileExposure) -> Severity:
    return "critical" if exposure.world_access else "high"


def _file_references(node: Any) -> list[tuple[Reference, int]]:
    found = []
    for item in iter_scalars(node):
        if isinstance(item.value, str) and "${file:" in item.value:
            try:
                segments = split_references(item.value)
            except ReferenceSyntaxError:
                continue
            found += [(s, item.line) for s in segments if isinstance(s, Reference)]
    return [(ref, line) for ref, line in found if ref.kind == "file"]


def _file_findings(root: Path, nodes: dict[Path, Any]) -> list[Finding]:
    findings = []
    for path, node in nodes.items():
        secrets = plaintext_secrets(node)
        for item in secrets:
            findings.append(
                Finding(
                    "high",
                    "plaintext-secret",
                    _at(path, item.line),
                    f"{item.key_path} holds a secret written in clear",
                    "replace the value with ${ENV_VAR}, ${file:path} or ${vault:mount/path#key}",
                )
            )
        exposure = file_exposure(path) if secrets else None
        if exposure is not None:
            findings.append(
                Finding(
                    _exposure_severity(exposure),
                    "config-file-permissions",
                    str(path),
                    f"holds plaintext secrets and {exposure.problem}",
                    exposure.fix,
                )
            )
        for reference, line in _file_references(node):
            target = Path(reference.name).expanduser()
            target = target if target.is_absolute() else root / target
            exposure = file_exposure(target) if target.is_file() else None
            if exposure is not None:
                findings.append(
                    Finding(
                        _exposure_severity(exposure),
                        "secret-file-permissions",
                        _at(path, line),
                        f"secret file {target} of {reference.text} {exposure.problem}",
                        exposure.fix,
                    )
                )
    return findings


def _reference_findings(root: Path, env: Mapping[str, str]) -> list[Finding]:
    sink = ProblemSink()
    check_config_references(root, sink, env, check_permissions=False)
    return [
        Finding(
            "high" if p.severity == "error" else "low",
            "unresolvable-reference" if p.severity == "error" else "unchecked-reference",
            _at(p.location.path, p.location.line),
            p.message,
            "set the variable, create the file or the Vault key"
            if p.severity == "error"
            else "run doctor where Vault is configured and reachable",
        )
        for p in sink.problems
    ]


def _plain_http_to_remote(url: Any) -> str | None:
    """The host of a plain-HTTP URL to another machine, else None."""
    if not isinstance(url, str) or "${" in url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname and not is_loopback(parts.hostname):
        return parts.hostname
    return None


def _endpoint_findings(root: Path, nodes: dict[Path, Any]) -> list[Finding]:
    node = nodes.get(root / ENDPOINTS_FILE, {})
    findings = []
    action = node.get("action_endpoint")
    host = _plain_http_to_remote(action.get("url")) if isinstance(action, dict) else None
    if host is not None:
        findings.append(
            Finding(
                "high",
                "action-endpoint-http",
                _at(root / ENDPOINTS_FILE, action.lc.line + 1 if hasattr(action, "lc") else 0),
                f"action_endpoint.url sends conversations to {host} over plain HTTP",
                "use an https:// URL (with ca_cert for a private CA)",
            )
        )
    vault = node.get(VAULT_SECTION)
    host = _plain_http_to_remote(vault.get("address")) if isinstance(vault, dict) else None
    if host is not None:
        findings.append(
            Finding(
                "high",
                "vault-http",
                str(root / ENDPOINTS_FILE),
                f"vault.address reaches Vault on {host} over plain HTTP: tokens travel in clear",
                "use an https:// address and set vault.ca_cert",
            )
        )
    return findings


def _load_settings(
    root: Path, nodes: dict[Path, Any], env: Mapping[str, str]
) -> ParleySettings | Finding:
    path = root / SETTINGS_FILE
    resolver = Resolver(path, root, env, None, SecretRegistry(), check_permissions=False)
    resolver.vault_unavailable = "not looked up by doctor"
    data = resolver.resolve(nodes.get(path, {}))
    try:
        return ParleySettings.model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return Finding("high", "invalid-settings", str(path), detail, "fix parley.yml")


def _weak(value: str, kind: str, where: str, check: str) -> Finding | None:
    if not value:  # unresolved: reported as an unresolvable reference already
        return None
    if value.lower() in DEFAULT_TOKENS:
        problem = "is a well-known default"
    elif len(value) < MIN_TOKEN_LENGTH:
        problem = f"is only {len(value)} characters long"
    else:
        return None
    return Finding(
        "high",
        check,
        where,
        f"the {kind} {problem}; anyone who guesses it controls the API",
        f"use at least {MIN_TOKEN_LENGTH} random characters: "
        'python -c "import secrets; print(secrets.token_urlsafe(32))"',
    )


def _settings_findings(
    root: Path,
    nodes: dict[Path, Any],
    env: Mapping[str, str],
    bind: str | None,
    production: bool,
) -> list[Finding]:
    settings = _load_settings(root, nodes, env)
    if isinstance(settings, Finding):
        return [settings]
    server = settings.server
    where = str(root / SETTINGS_FILE)
    host = bind or server.host
    findings: list[Finding] = []
    if not is_loopback(host) and not server.tls:
        findings.append(
            Finding(
                "high",
                "tls-off",
                where,
                f"the server binds {host}, reachable from other machines, without TLS",
                "set server.ssl_certfile and server.ssl_keyfile (or terminate TLS in front "
                "and bind 127.0.0.1)",
            )
        )
    key_file = Path(server.ssl_keyfile).expanduser() if server.ssl_keyfile else None
    key_file = root / key_file if key_file and not key_file.is_absolute() else key_file
    exposure = file_exposure(key_file) if key_file and key_file.is_file() else None
    if key_file is not None and exposure is not None:
        findings.append(
            Finding(
                _exposure_severity(exposure),
                "tls-key-permissions",
                where,
                f"TLS private key {key_file} {exposure.problem}",
                exposure.fix,
            )
        )
    token = server.auth_token.get_secret_value() if server.auth_token else ""
    jwt = server.jwt_secret.get_secret_value() if server.jwt_secret else ""
    for weak in (
        _weak(token, "auth token", where, "weak-auth-token"),
        _weak(jwt, "JWT secret", where, "weak-jwt-secret")
        if server.jwt_method[:2] == "HS"
        else None,
    ):
        if weak is not None:
            findings.append(weak)
    if not is_loopback(host) and server.auth_token is None and server.jwt_secret is None:
        findings.append(
            Finding(
                "medium",
                "no-api-auth",
                where,
                f"the server binds {host} with neither an auth token nor a JWT secret",
                "set server.auth_token or server.jwt_secret if the HTTP API is enabled",
            )
        )
    debug_env = env.get("PARLEY_LOG_LEVEL", "").upper() == "DEBUG" or bool(env.get("PARLEY_DEBUG"))
    if production and (settings.logging.level == "DEBUG" or debug_env):
        findings.append(
            Finding(
                "high",
                "debug-logging",
                where if settings.logging.level == "DEBUG" else "environment",
                "debug logging in production writes user messages and internals to the logs",
                "set logging.level: INFO and unset PARLEY_DEBUG / PARLEY_LOG_LEVEL=DEBUG",
            )
        )
    return findings
