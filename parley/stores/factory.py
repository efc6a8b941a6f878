"""Build the stores an assistant uses from its `endpoints.yml` (Rasa's keys and shapes).

    tracker_store: {type: sql, dialect, url, port, db, username, password, query, schema}
                   {type: redis, url, port, db, username, password, key_prefix, use_ssl,
                    ssl_ca_certs, ssl_certfile, ssl_keyfile, record_exp}  (TLS files: paths
                    from the project folder)
                   {type: in_memory}
                   absent: SQLite `parley.db` in the project folder
    lock_store:    {type: redis, url, port, db, password, key_prefix, use_ssl (+ the TLS files),
                    lock_lifetime, wait_timeout}  (lock_lifetime also from TICKET_LOCK_LIFETIME, as in Rasa)
                   {type: file, path}  locks shared by the processes of one host
                                       (`parley run --workers N`); path: .parley/locks
                   absent / {type: in_memory}: in-process locks (one replica only)
    event_broker:  {type: pika, url, port, username, password, queues, exchange_name}
                   {type: sql, dialect, url, db, …}
                   absent: no broker

The factories take `parley.project.endpoints.Endpoints`, read once (references resolved); a plain
mapping is still accepted (tests, scripts) and read here, its `${VAR}`, `${file:…}`, `${vault:…}`
references resolved by `parley.security`.

The Redis and RabbitMQ stores are imported when configured (their client libraries take about
0.1 s to import, which a server on SQLite does not spend at start).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parley.project.endpoints import Endpoints, EndpointSection, EndpointsError
from parley.security import resolve_config
from parley.stores.base import EventBroker, LockStore, ManagedTrackerStore
from parley.stores.crypto import EventCipher
from parley.stores.errors import StoreConfigError
from parley.stores.file_lock import FileLockStore
from parley.stores.keys import load_cipher
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings

_MEMORY = ("in_memory", "memory", "inmemory")
DEFAULT_LOCK_FILE = ".parley/locks"
_RASA_LOCK_LIFETIME_ENV = "TICKET_LOCK_LIFETIME"  # Rasa's way to set the lock lifetime


EndpointsLike = Endpoints | Mapping[str, Any] | None
"""Endpoints read once, or (tests, scripts) endpoints.yml's mapping, read here."""


def read_endpoints(endpoints: EndpointsLike, project_root: Path) -> Endpoints:
    """`endpoints` as typed sections; a mapping has its secret references resolved first."""
    if isinstance(endpoints, Endpoints):
        return endpoints
    raw = resolve_config(endpoints or {}, project_root / "endpoints.yml", project_root)
    try:
        return Endpoints.parse(raw)
    except EndpointsError as exc:
        raise StoreConfigError(str(exc)) from None


def _section(endpoints: EndpointsLike, name: str, project_root: Path) -> EndpointSection | None:
    return read_endpoints(endpoints, project_root).section(name)


def _store_type(section: EndpointSection, default: str) -> str:
    try:
        return section.type(default)
    except EndpointsError as exc:
        raise StoreConfigError(str(exc)) from None


async def create_tracker_store(
    endpoints: EndpointsLike,
    project_root: Path,
    cipher: EventCipher | None = None,
) -> ManagedTrackerStore:
    """The configured tracker store, connected and migrated. `cipher` defaults to the key in
    PARLEY_ENCRYPTION_KEY (see `parley.stores.keys`; none: events are stored unencrypted)."""
    cipher = cipher if cipher is not None else load_cipher(project_root)
    section = _section(endpoints, "tracker_store", project_root)
    if section is None:
        return await SQLTrackerStore.open(SQLSettings(), project_root, cipher)
    where = section.where
    kind = _store_type(section, "sql")
    if kind == "sql":
        return await SQLTrackerStore.open(
            SQLSettings.from_endpoint(section.settings, where), project_root, cipher
        )
    if kind == "redis":
        from parley.stores.redis_conn import RedisSettings
        from parley.stores.redis_store import RedisTrackerStore

        settings = RedisSettings.from_endpoint(section.settings, where).in_project(project_root)
        return await RedisTrackerStore.open(settings, cipher)
    if kind in _MEMORY:
        return InMemoryTrackerStore()
    raise StoreConfigError(f"{where}: unknown type {kind!r}; use sql, redis or in_memory")


async def create_lock_store(endpoints: EndpointsLike, project_root: Path = Path(".")) -> LockStore:
    """The configured lock store; in-process locks when none is configured."""
    section = _section(endpoints, "lock_store", project_root)
    if section is None:
        return InMemoryLockStore()
    where = section.where
    kind = _store_type(section, "in_memory")
    if kind == "redis":
        from parley.stores.redis_conn import RedisSettings
        from parley.stores.redis_lock import RedisLockStore

        options = {
            name: float(section[name])
            for name in ("lock_lifetime", "wait_timeout")
            if section.get(name) not in (None, "")
        }
        from_env = float(os.environ.get(_RASA_LOCK_LIFETIME_ENV) or 0)  # 0: the default
        if "lock_lifetime" not in options and from_env > 0:
            options["lock_lifetime"] = from_env
        # Rasa's lock store defaults to Redis database 1, apart from a tracker store in db 0.
        settings = RedisSettings.from_endpoint(section.settings, where, default_db=1).in_project(
            project_root
        )
        return await RedisLockStore.open(settings, **options)
    if kind == "file":
        return FileLockStore(project_root / str(section.get("path") or DEFAULT_LOCK_FILE))
    if kind in _MEMORY:
        return InMemoryLockStore()
    raise StoreConfigError(f"{where}: unknown type {kind!r}; use redis, file or in_memory")


async def create_event_broker(endpoints: EndpointsLike, project_root: Path) -> EventBroker | None:
    """The configured event broker, connected; None when none is configured."""
    section = _section(endpoints, "event_broker", project_root)
    if section is None:
        return None
    where = section.where
    kind = _store_type(section, "pika")
    if kind == "pika":
        from parley.stores.broker_pika import PikaEventBroker, PikaSettings

        return await PikaEventBroker.open(PikaSettings.from_endpoint(section.settings, where))
    if kind == "sql":
        from parley.stores.broker_sql import SQLEventBroker

        return await SQLEventBroker.open(
            SQLSettings.from_endpoint(section.settings, where), project_root
        )
    raise StoreConfigError(f"{where}: unknown type {kind!r}; use pika or sql")
