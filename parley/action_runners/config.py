"""`action_endpoint` of endpoints.yml as a validated, immutable configuration.

Rasa's keys (`url`, `token`, `token_name`, `headers`, `params`, `basic_auth`, `cafile`) keep
their meaning; Parley adds `timeout`, `connect_timeout`, `retries`, `jwt`, `hmac`, `tls`,
`proxy`, `circuit_breaker` and `actions_module` (in-process actions). `${ENV_VAR}`,
`${file:…}` and `${vault:…}` references are resolved before, by `parley.security`.
See docs/action-server.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

logger = logging.getLogger(__name__)


class ActionConfigError(ValueError):
    """`action_endpoint` in endpoints.yml is invalid; the message names the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JWTConfig(_Section):
    """Send `Authorization: Bearer <JWT>`, signed per call and valid for `expires_in` seconds."""

    algorithm: Literal["HS256", "RS256"] = "HS256"
    secret: str | None = None  # HS256 shared secret
    private_key: str | None = None  # RS256: PEM text (e.g. from `${file:...}`)
    private_key_file: Path | None = None  # RS256: PEM file
    expires_in: float = Field(default=60.0, gt=0, le=3600)
    issuer: str = "parley"
    audience: str | None = None
    key_id: str | None = None

    @model_validator(mode="after")
    def _key_matches_algorithm(self) -> JWTConfig:
        if self.algorithm == "HS256" and not self.secret:
            raise ValueError("jwt with algorithm HS256 needs 'secret'")
        if self.algorithm == "RS256" and not (self.private_key or self.private_key_file):
            raise ValueError("jwt with algorithm RS256 needs 'private_key' or 'private_key_file'")
        if self.algorithm == "HS256" and len(self.secret or "") < 32:
            raise ValueError("jwt 'secret' must be at least 32 characters (256 bits)")
        return self

    def signing_key(self) -> str:
        if self.algorithm == "HS256":
            return self.secret or ""
        if self.private_key:
            return self.private_key
        assert self.private_key_file is not None
        return self.private_key_file.read_text(encoding="utf-8")


class HMACConfig(_Section):
    """Sign `timestamp.nonce.body` with HMAC-SHA256 (X-Parley-Timestamp/-Nonce/-Signature)."""

    secret: str = Field(min_length=32)


class TLSConfig(_Section):
    """Trust a private CA and/or present a client certificate (mutual TLS)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    key_password: str | None = None
    verify: bool = True

    @model_validator(mode="after")
    def _key_needs_cert(self) -> TLSConfig:
        if self.key_file and not self.cert_file:
            raise ValueError("tls 'key_file' needs 'cert_file' (the client certificate)")
        return self


class CircuitBreakerConfig(_Section):
    """After `failure_threshold` failures in a row, fail at once for `reset_timeout` seconds."""

    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout: float = Field(default=30.0, gt=0)


class BasicAuth(_Section):
    username: str
    password: str


class ActionEndpointConfig(_Section):
    """Where and how custom actions run: an HTTP action server (`url`) or in-process."""

    url: str | None = None
    actions_module: str | None = None
    timeout: float = Field(default=10.0, gt=0)
    connect_timeout: float = Field(default=1.0, gt=0)
    retries: int = Field(default=2, ge=0, le=5)
    token: str | None = None
    token_name: str = "token"
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    cafile: Path | None = None  # Rasa's name for tls.ca_file
    jwt: JWTConfig | None = None
    hmac: HMACConfig | None = None
    tls: TLSConfig | None = None
    proxy: str | None = None
    circuit_breaker: CircuitBreakerConfig = CircuitBreakerConfig()

    @model_validator(mode="after")
    def _url_or_module(self) -> ActionEndpointConfig:
        if not self.url and not self.actions_module:
            raise ValueError("set 'url' (an action server) or 'actions_module' (in-process)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"'url' must start with http:// or https://, got {self.url!r}")
        if self.proxy and not self.proxy.startswith(("http://", "https://")):
            raise ValueError(f"'proxy' must be an http:// or https:// URL, got {self.proxy!r}")
        return self

    @property
    def ca_file(self) -> Path | None:
        return self.tls.ca_file if self.tls and self.tls.ca_file else self.cafile


_KNOWN_KEYS = set(ActionEndpointConfig.model_fields)


def parse_action_endpoint(
    raw: Mapping[str, Any], base_dir: Path | None = None, source: str = "endpoints.yml"
) -> ActionEndpointConfig:
    """Validate the resolved `action_endpoint` mapping (see `parley.security.load_endpoints`).

    Relative file paths are taken from `base_dir`. Raises ActionConfigError naming the key.
    """
    if not isinstance(raw, Mapping):
        raise ActionConfigError(f"{source}: 'action_endpoint' must be a mapping with 'url'")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    for key in unknown:  # Rasa passes unknown keys through; warn rather than refuse
        logger.warning("%s: action_endpoint key '%s' is not used by Parley", source, key)
    data = {k: v for k, v in raw.items() if k in _KNOWN_KEYS}
    try:
        config = ActionEndpointConfig.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"action_endpoint.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            if err["loc"]
            else f"action_endpoint: {err['msg']}"
            for err in exc.errors()
        )
        raise ActionConfigError(f"{source}: {details}") from None
    return _with_absolute_paths(config, base_dir)


def _with_absolute_paths(
    config: ActionEndpointConfig, base_dir: Path | None
) -> ActionEndpointConfig:
    if base_dir is None:
        return config

    def absolute(path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else base_dir / path

    updates: dict[str, Any] = {"cafile": absolute(config.cafile)}
    if config.tls:
        updates["tls"] = config.tls.model_copy(
            update={
                "ca_file": absolute(config.tls.ca_file),
                "cert_file": absolute(config.tls.cert_file),
                "key_file": absolute(config.tls.key_file),
            }
        )
    if config.jwt and config.jwt.private_key_file:
        updates["jwt"] = config.jwt.model_copy(
            update={"private_key_file": absolute(config.jwt.private_key_file)}
        )
    return config.model_copy(update=updates)
