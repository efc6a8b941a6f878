"""Everything `parley run` decides before the app starts, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1_000_000  # 1 MB: ample for a tracker, small enough to refuse floods
DEFAULT_MAX_MESSAGE_CHARS = 2_000  # a user message; longer ones are refused before NLU runs
JWT_METHODS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512")


class ServerConfigError(ValueError):
    """A server option or a `credentials.yml` channel entry is unusable."""


@dataclass(frozen=True)
class ServerConfig:
    """How the HTTP server behaves.

    `credentials` is `credentials.yml` as a dict (channel name -> settings); None means the
    default channels (`rest` and `socketio`). `jwt_secret` is the HMAC secret or, for RS/ES
    methods, the public key in PEM.
    """

    enable_api: bool = False
    auth_token: str | None = None
    jwt_secret: str | None = None
    jwt_method: str = "HS256"
    credentials: dict[str, Any] | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()
    webchat: bool = True
    metrics: bool = True
    access_log: bool = True
    response_timeout: float = 3600.0
    workers: int = 1  # server processes on this host (`parley run --workers`)
    model_pointer: Path | None = None  # with workers: the file that shares model swaps
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    model_folders: tuple[Path, ...] = ()  # where `PUT /model` may load archives from
    body_idle_seconds: float = 5.0  # a request body stalled this long is given up (408)

    def __post_init__(self) -> None:
        if self.jwt_method not in JWT_METHODS:
            raise ServerConfigError(
                f"--jwt-method {self.jwt_method!r} is not supported; use one of "
                + ", ".join(JWT_METHODS)
            )
        if self.workers < 1:
            raise ServerConfigError("--workers must be at least 1")
        if self.max_body_bytes < 1024:
            raise ServerConfigError("the request size limit must be at least 1024 bytes")
        if self.max_message_chars < 1:
            raise ServerConfigError("the message length limit must be at least 1 character")
        if self.auth_token is not None and not self.auth_token:
            raise ServerConfigError("--auth-token must not be empty")
        if self.jwt_secret is not None and not self.jwt_secret:
            raise ServerConfigError("--jwt-secret must not be empty")

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_token or self.jwt_secret)

    def channels(self) -> dict[str, dict[str, Any]]:
        """Channel name -> its settings (an empty dict when credentials.yml gives none)."""
        if self.credentials is None:
            return {"rest": {}, "socketio": {}}
        if not isinstance(self.credentials, dict):
            raise ServerConfigError("credentials.yml must map channel names to their settings")
        channels: dict[str, dict[str, Any]] = {}
        for name, settings in self.credentials.items():
            if settings is not None and not isinstance(settings, dict):
                raise ServerConfigError(
                    f"credentials.yml: the settings of channel '{name}' must be a mapping"
                )
            channels[str(name)] = dict(settings or {})
        return channels
