"""Redis connection settings from `endpoints.yml` (Rasa's keys), shared by store and lock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley.stores.errors import StoreConfigError, StoreError

_PREFIX = re.compile(r"^[A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class RedisSettings:
    """`url` (host, or a full redis:// URL), `port`, `db`, `username`, `password`, `use_ssl`
    with Rasa's `ssl_ca_certs` (the CA that signed the server's certificate; default: the
    system's), `ssl_certfile` and `ssl_keyfile` (a client certificate, for servers that ask
    for one), `key_prefix` (letters, digits, `_`, `-`), `record_exp` (seconds a conversation
    is kept), `socket_timeout`."""

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    key_prefix: str = ""
    record_exp: float | None = None
    socket_timeout: float = 10.0
    full_url: str | None = None

    @classmethod
    def from_endpoint(
        cls, section: Mapping[str, Any], where: str, default_db: int = 0
    ) -> RedisSettings:
        url = str(section.get("url") or "localhost")
        prefix = str(section.get("key_prefix") or "")
        if not _PREFIX.match(prefix):
            raise StoreConfigError(
                f"{where}.key_prefix: {prefix!r} may only hold letters, digits, '_' and '-'"
            )
        record_exp = section.get("record_exp")
        try:
            return cls(
                host=url if "://" not in url else "localhost",
                port=int(section.get("port") or 6379),
                db=int(section["db"]) if section.get("db") not in (None, "") else default_db,
                username=str(section["username"]) if section.get("username") else None,
                password=str(section["password"]) if section.get("password") else None,
                use_ssl=_truthy(section.get("use_ssl", False)),
                ssl_ca_certs=_text(section.get("ssl_ca_certs")),
                ssl_certfile=_text(section.get("ssl_certfile")),
                ssl_keyfile=_text(section.get("ssl_keyfile")),
                key_prefix=prefix,
                record_exp=float(record_exp) if record_exp not in (None, "") else None,
                socket_timeout=float(section.get("socket_timeout") or 10.0),
                full_url=url if "://" in url else None,
            )
        except (TypeError, ValueError) as exc:
            raise StoreConfigError(f"{where}: {exc}") from None

    def in_project(self, root: Path) -> RedisSettings:
        """The same settings with relative certificate and key paths taken from `root`."""

        def inside(path: str | None) -> str | None:
            return str(root / path) if path and not Path(path).is_absolute() else path

        return replace(
            self,
            ssl_ca_certs=inside(self.ssl_ca_certs),
            ssl_certfile=inside(self.ssl_certfile),
            ssl_keyfile=inside(self.ssl_keyfile),
        )

    def namespace(self, kind: str) -> str:
        """The key prefix of one kind of data, e.g. `myprefix:parley:events:`."""
        return f"{self.key_prefix}:parley:{kind}:" if self.key_prefix else f"parley:{kind}:"

    def connect(self) -> Redis:
        tls: dict[str, Any] = {}
        if self.use_ssl or (self.full_url or "").startswith("rediss://"):
            tls = {
                "ssl_ca_certs": self.ssl_ca_certs,
                "ssl_certfile": self.ssl_certfile,
                "ssl_keyfile": self.ssl_keyfile,
            }
        if self.full_url is not None:
            return Redis.from_url(self.full_url, socket_timeout=self.socket_timeout, **tls)
        return Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            username=self.username,
            password=self.password,
            ssl=self.use_ssl,
            socket_timeout=self.socket_timeout,
            **tls,
        )

    async def connect_checked(self, store: str) -> Redis:
        """A connection that answered PING; `store` is the endpoints.yml section it serves."""
        redis = self.connect()
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            await redis.aclose()
            what = store.replace("_", " ")
            raise StoreError(
                f"cannot reach the Redis {what} at {self.host}:{self.port}: {exc}; "
                f"check {store} in endpoints.yml and that Redis is running"
            ) from exc
        return redis


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
