"""SQL connection settings from `endpoints.yml`, engine creation and migrations at start."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parley.stores.errors import StoreConfigError
from parley.stores.migrations import HEAD_REVISION
from parley.stores.sql_lite import ensure_wal
from parley.stores.sql_schema import metadata

logger = logging.getLogger(__name__)

DEFAULT_SQLITE_DB = "parley.db"
_MIGRATIONS = Path(__file__).parent / "migrations"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Any constant works: every Parley process migrating the same database takes this lock first.
_MIGRATION_LOCK_ID = 0x7061726C6579


@dataclass(frozen=True)
class SQLSettings:
    """Rasa's SQL keys: `dialect`, `url` (host, or a full SQLAlchemy URL), `port`, `db`,
    `username`, `password`, `query`, `login_db` (PostgreSQL: connect there first and create
    `db` if it does not exist); plus Parley's `schema` (PostgreSQL search path)."""

    dialect: str = "sqlite"
    host: str | None = None
    port: int | None = None
    db: str = DEFAULT_SQLITE_DB
    username: str | None = None
    password: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    schema: str | None = None
    full_url: str | None = None
    login_db: str | None = None

    @classmethod
    def from_endpoint(cls, section: Mapping[str, Any], where: str) -> SQLSettings:
        dialect = str(section.get("dialect") or "sqlite").lower()
        if dialect.startswith("postgres"):
            dialect = "postgresql"
        url = section.get("url")
        full_url = str(url) if url and "://" in str(url) else None
        if full_url is not None:
            dialect = make_url(full_url).get_backend_name()
        if dialect not in _DRIVERS:
            raise StoreConfigError(
                f"{where}: dialect {dialect!r} is not supported; use sqlite or postgresql"
            )
        schema = section.get("schema")
        if schema is not None and not _SCHEMA_NAME.match(str(schema)):
            raise StoreConfigError(f"{where}.schema: {schema!r} is not a valid schema name")
        port = section.get("port")
        query = section.get("query") or {}
        if not isinstance(query, Mapping):
            raise StoreConfigError(f"{where}.query: expected a mapping of URL query parameters")
        return cls(
            dialect=dialect,
            host=str(url) if url and full_url is None else None,
            port=int(port) if port not in (None, "") else None,
            db=str(section.get("db") or (DEFAULT_SQLITE_DB if dialect == "sqlite" else "parley")),
            username=_optional(section.get("username")),
            password=_optional(section.get("password")),
            query={str(k): str(v) for k, v in query.items()},
            schema=str(schema) if schema is not None else None,
            full_url=full_url,
            login_db=_optional(section.get("login_db")),
        )

    def url(self, project_root: Path) -> URL:
        if self.full_url is not None:
            url = make_url(self.full_url)
            backend = url.get_backend_name()
            return url.set(drivername=_DRIVERS.get(backend, url.drivername))
        if self.dialect == "sqlite":
            path = Path(self.db)
            if not path.is_absolute():
                path = project_root / path
            return URL.create(_DRIVERS["sqlite"], database=str(path))
        return URL.create(
            _DRIVERS[self.dialect],
            username=self.username,
            password=self.password,
            host=self.host or "localhost",
            port=self.port,
            database=self.db,
            query=self.query,
        )

    def login_url(self, project_root: Path) -> URL | None:
        """Where to connect to create the database first (PostgreSQL with `login_db` only)."""
        url = self.url(project_root)
        if self.login_db is None or url.get_backend_name() != "postgresql":
            return None
        return url.set(database=self.login_db)


def _optional(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def create_engine(settings: SQLSettings, project_root: Path) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` for writers."""
    url = settings.url(project_root)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if settings.schema:
        connect_args["options"] = f"-csearch_path={settings.schema}"
    return create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)


async def ensure_database(login_url: URL, name: str) -> None:
    """Create PostgreSQL database `name` through `login_url` unless it exists (Rasa's login_db)."""
    if '"' in name:
        raise StoreConfigError(f"database name {name!r} may not contain double quotes")
    engine = create_async_engine(login_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists.scalar() is None:
                try:
                    await connection.execute(text(f'CREATE DATABASE "{name}"'))
                    logger.info("created database %s", name)
                except ProgrammingError as exc:  # another replica created it meanwhile
                    if "already exists" not in str(exc):
                        raise
    finally:
        await engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock up front: two writers that both read first would
        # otherwise fail on upgrade instead of waiting their turn.
        immediate = connection.get_execution_options().get("parley_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, marked so its transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(parley_write=True)


async def migrate(engine: AsyncEngine, schema: str | None = None) -> None:
    """Create the schema (if named) and apply every pending migration, one process at a time."""
    is_postgres = engine.dialect.name == "postgresql"
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        await asyncio.to_thread(ensure_wal, database)
    async with writer(engine).begin() as connection:
        if is_postgres:
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
            if schema:
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await connection.run_sync(_upgrade)


# Alembic's own bookkeeping table, as `alembic stamp` creates it.
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _upgrade(connection: Connection) -> None:
    before = _current_revision(connection)
    if before == HEAD_REVISION:
        return
    if before is None and not _has_store_tables(connection):
        create_current_schema(connection)
        return
    alembic_upgrade(connection)


def create_current_schema(connection: Connection) -> None:
    """A new database gets the newest schema straight from the table definitions, stamped with
    the head revision: the same tables and indexes the migrations build (a test compares them),
    without importing Alembic, which takes half a second of a first start."""
    metadata.create_all(connection)
    _ALEMBIC_VERSION.create(connection)
    connection.execute(_ALEMBIC_VERSION.insert().values(version_num=HEAD_REVISION))
    logger.info("database schema created at revision %s", HEAD_REVISION)


def _has_store_tables(connection: Connection) -> bool:
    existing = set(inspect(connection).get_table_names())
    return any(name in existing for name in metadata.tables)


def alembic_upgrade(connection: Connection) -> None:
    """Apply the pending Alembic migrations on `connection`."""
    before = _current_revision(connection)
    alembic_logger = logging.getLogger("alembic")
    if alembic_logger.level == logging.NOTSET:
        alembic_logger.setLevel(logging.WARNING)  # its chatter (plugins, steps) is not news
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    after = _current_revision(connection)
    if after != before:
        logger.info("database schema migrated from %s to %s", before or "empty", after)


def _current_revision(connection: Connection) -> str | None:
    """The schema's Alembic revision, read directly; None if there is none yet."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row is not None else None


def describe_error(exc: BaseException) -> str:
    """A database driver's error in one line, without SQLAlchemy's background links."""
    reason = getattr(exc, "orig", None) or exc
    return "; ".join(line.strip() for line in str(reason).splitlines() if line.strip())
