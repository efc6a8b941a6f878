"""Everything `parley run` decides before the app starts, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.security.settings import ServerSettings

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
    # each process's tracker cache: conversations kept and the events they may hold together
    # (None: `tracker_cache`'s defaults)
    tracker_cache_conversations: int | None = None
    tracker_cache_events: int | None = None

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
        if min(self.tracker_cache_conversations or 0, self.tracker_cache_events or 0) < 0:
            raise ServerConfigError("the tracker cache bounds must not be negative (0: no cache)")
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


@dataclass(frozen=True)
class RunOptions:
    """What `parley run` was given on its command line; None (or empty): not given."""

    interface: str | None = None
    port: int | None = None
    enable_api: bool = False
    auth_token: str | None = None
    jwt_secret: str | None = None
    jwt_method: str | None = None
    cors: tuple[str, ...] = ()
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: str | None = None
    max_body_kb: int = DEFAULT_MAX_BODY_BYTES // 1000
    access_log: bool = True
    workers: int | None = None


@dataclass(frozen=True)
class Listen:
    """Where the server listens, and with which TLS certificate."""

    host: str
    port: int
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_certfile else "http"

    @property
    def shown_host(self) -> str:
        """The host to print in a URL a user can open (0.0.0.0 is not one)."""
        return "127.0.0.1" if self.host == "0.0.0.0" else self.host

    def tls(self) -> dict[str, Any]:
        """uvicorn's TLS arguments (see `serve.serve`)."""
        return {
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
            "ssl_password": self.ssl_password,
        }


def _secret(flag: str | None, configured: object) -> str | None:
    value = getattr(configured, "get_secret_value", None)  # pydantic's SecretStr
    return flag or (value() if value else None)


def merge_run_options(options: RunOptions, settings: ServerSettings) -> tuple[ServerConfig, Listen]:
    """The server's configuration: flags win over `parley.yml`'s `server:` section, which wins
    over the defaults. Raises ServerConfigError."""
    certfile = options.ssl_certfile or (
        Path(settings.ssl_certfile) if settings.ssl_certfile else None
    )
    keyfile = options.ssl_keyfile or (Path(settings.ssl_keyfile) if settings.ssl_keyfile else None)
    if keyfile and not certfile:
        raise ServerConfigError("--ssl-keyfile needs --ssl-certfile")
    config = ServerConfig(
        enable_api=options.enable_api,
        auth_token=_secret(options.auth_token, settings.auth_token),
        jwt_secret=_secret(options.jwt_secret, settings.jwt_secret),
        jwt_method=options.jwt_method or settings.jwt_method,
        cors_origins=options.cors,
        max_body_bytes=options.max_body_kb * 1000,
        access_log=options.access_log,
        workers=options.workers or settings.workers,
        max_message_chars=settings.max_message_chars,
        tracker_cache_conversations=settings.tracker_cache_conversations,
        tracker_cache_events=settings.tracker_cache_events,
    )
    listen = Listen(
        host=options.interface or settings.host,
        port=options.port or settings.port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        ssl_password=_secret(options.ssl_password, settings.ssl_password),
    )
    return config, listen
