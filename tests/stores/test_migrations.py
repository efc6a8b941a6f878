"""Schema migrations ship in the package and run at start, safely from several processes."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from parley.stores import SQLSettings, SQLTrackerStore, StoreError
from parley.stores.migrations import HEAD_REVISION
from parley.stores.sql_engine import alembic_upgrade, create_current_schema
from tests.stores.conftest import drop_schema, postgres_settings, unique_name


async def _open_concurrently(settings: SQLSettings, root: Path) -> list[str | None]:
    stores = await asyncio.gather(*(SQLTrackerStore.open(settings, root) for _ in range(4)))
    versions = []
    for store in stores:
        async with store.engine.connect() as connection:
            versions.append(
                (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            )
        await store.close()
    return versions


async def test_sqlite_schema_is_created_once_and_versioned(tmp_path: Path) -> None:
    assert await _open_concurrently(SQLSettings(), tmp_path) == [HEAD_REVISION] * 4
    store = await SQLTrackerStore.open(SQLSettings(), tmp_path)  # reopening changes nothing
    await store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
    await store.close()


async def test_a_new_sqlite_file_being_written_is_waited_for(tmp_path: Path) -> None:
    """Switching a database to WAL needs it to itself, and SQLite refuses that at once (no busy
    wait) while another connection writes in the old journal mode: as when replicas or stores
    open a new file together. The store waits for the writer instead of failing to start."""
    other = sqlite3.connect(tmp_path / "parley.db", isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE unrelated (a)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO unrelated VALUES (1)")
    release = threading.Timer(0.3, other.execute, ["COMMIT"])
    release.start()
    store = await SQLTrackerStore.open(SQLSettings(), tmp_path)
    release.join()
    await store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
    assert len(await store.load("a") or []) == 1
    await store.close()
    other.close()


@pytest.mark.integration
async def test_postgres_replicas_starting_together_migrate_once(tmp_path: Path) -> None:
    schema = unique_name("migrate")
    try:
        assert await _open_concurrently(postgres_settings(schema), tmp_path) == [HEAD_REVISION] * 4
    finally:
        await drop_schema(schema)


@pytest.mark.integration
async def test_login_db_creates_the_database_first(tmp_path: Path) -> None:
    name = unique_name("db")
    settings = SQLSettings.from_endpoint(
        {"dialect": "postgresql", "url": "127.0.0.1", "db": name, "login_db": "test"}, "test"
    )
    try:
        store = await SQLTrackerStore.open(settings, tmp_path)
        await store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
        await store.close()
        again = await SQLTrackerStore.open(settings, tmp_path)  # exists now: nothing to create
        assert len(await again.load("a") or []) == 1
        await again.close()
    finally:
        engine = create_async_engine(
            "postgresql+psycopg://127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
        )
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await engine.dispose()


def test_the_recorded_head_is_alembics_newest_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from parley.stores import migrations
    from parley.stores.migrations import HEAD_REVISION

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def _schema_of(connection: Connection) -> dict[str, object]:
    """Tables, columns, keys and indexes as the database reports them."""
    inspector = inspect(connection)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "rows": connection.execute(text("SELECT version_num FROM alembic_version")).all()
            if table == "alembic_version"
            else None,
        }
        for table in sorted(inspector.get_table_names())
    }


def test_a_new_sqlite_database_gets_the_schema_the_migrations_build(tmp_path: Path) -> None:
    """A first start creates the schema from the table definitions (no Alembic); it must be
    exactly what the migrations make, so later migrations apply to either."""
    built = {}
    for name, build in (("migrated", alembic_upgrade), ("created", create_current_schema)):
        engine = create_engine(f"sqlite:///{tmp_path / name}.db")
        with engine.begin() as connection:
            build(connection)
        with engine.connect() as connection:
            built[name] = _schema_of(connection)
        engine.dispose()
    assert built["created"] == built["migrated"]
    assert set(built["created"]) == {
        "alembic_version",
        "parley_broker_events",
        "parley_conversations",
        "parley_events",
        "parley_experiments",
        "parley_model_tags",
        "parley_model_versions",
        "parley_access_users",
        "parley_access_sessions",
        "parley_access_tokens",
        "parley_access_keys",
        "parley_access_used_ids",
        "parley_audit_log",
        "parley_studio_turns",
        "parley_studio_summaries",
        "parley_studio_state",
        "parley_studio_tags",
        "parley_studio_reviews",
        "parley_studio_flags",
        "parley_studio_annotations",
        "parley_studio_changeset",
        "parley_share_links",
        "parley_training_jobs",
        "parley_training_log",
        "parley_studio_facts",
        "parley_studio_saved_filters",
    }


@pytest.mark.integration
def test_a_new_postgres_schema_gets_the_schema_the_migrations_build() -> None:
    engine = create_engine("postgresql+psycopg://127.0.0.1:5432/test")
    schemas = {name: unique_name(name) for name in ("migrated", "created")}
    built = {}
    try:
        for name, build in (("migrated", alembic_upgrade), ("created", create_current_schema)):
            with engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schemas[name]}"'))
                connection.execute(text(f'SET LOCAL search_path TO "{schemas[name]}"'))
                build(connection)
                built[name] = _schema_of(connection)
    finally:
        with engine.begin() as connection:
            for schema in schemas.values():
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    assert built["created"] == built["migrated"]
    assert "parley_events" in built["created"]


async def test_an_existing_older_database_is_still_migrated_by_alembic(tmp_path: Path) -> None:
    """Store tables without a revision (a database from before versioning, or a half-made one)
    are never re-created from the definitions: Alembic decides."""
    engine = create_engine(f"sqlite:///{tmp_path / 'parley.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parley_conversations (sender_id TEXT)"))
    engine.dispose()
    with pytest.raises(StoreError, match="parley_conversations"):
        await SQLTrackerStore.open(SQLSettings(), tmp_path)
