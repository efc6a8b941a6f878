"""Parley's own deployment settings: `parley.yml` in the project (optional, every key optional).

    server:
      host: 0.0.0.0            # where `parley run` binds
      port: 5005
      ssl_certfile: certs/server.pem
      ssl_keyfile: certs/server.key
      ssl_password: ${file:secrets/tls-pass}
      auth_token: ${PARLEY_AUTH_TOKEN}
      jwt_secret: ${vault:secret/parley#jwt_secret}
      jwt_method: HS256
      workers: 2
      max_message_chars: 2000  # longer user messages are refused (413) before NLU runs
      model_folders: [/srv/models]  # PUT /model loads from models/ of the project and these
      tracker_cache_conversations: 256  # trackers a server process keeps in memory
      tracker_cache_events: 300000      # and the events they may hold together
    logging:
      level: INFO
    access:                    # users, roles, sessions, SSO, audit (docs/access.md)
      session: {idle_minutes: 30}

Values may use the same `${...}` references as endpoints.yml; secrets are `SecretStr`, so they
never show in a repr or a log line by accident.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from parley.access.settings import AccessSettings

SETTINGS_FILE = "parley.yml"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = 5005
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_password: SecretStr | None = None
    auth_token: SecretStr | None = None
    jwt_secret: SecretStr | None = None
    jwt_method: str = "HS256"
    workers: int = Field(default=1, ge=1, le=64)
    max_message_chars: int = Field(default=2000, ge=1)  # longer user messages get a 413
    model_folders: tuple[str, ...] = ()  # besides models/: where `PUT /model` may load from
    # the tracker cache of each server process (`tracker_cache.TrackerCache`; 0: none; None:
    # its defaults)
    tracker_cache_conversations: int | None = Field(default=None, ge=0)
    tracker_cache_events: int | None = Field(default=None, ge=0)

    @property
    def tls(self) -> bool:
        return bool(self.ssl_certfile and self.ssl_keyfile)


class LoggingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"


class ParleySettings(BaseModel):
    """The whole of parley.yml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server: ServerSettings = ServerSettings()
    logging: LoggingSettings = LoggingSettings()
    access: AccessSettings | None = None  # users, roles, SSO, audit: see docs/access.md


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = host.strip("[]").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")
