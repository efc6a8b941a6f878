"""Schema migrations ship in the package and run at start, safely from several processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from parley.stores import SQLSettings, SQLTrackerStore
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
    assert await _open_concurrently(SQLSettings(), tmp_path) == ["0001"] * 4
    store = await SQLTrackerStore.open(SQLSettings(), tmp_path)  # reopening changes nothing
    await store.append("a", [{"event": "user", "timestamp": 1.0, "text": "x"}])
    await store.close()


@pytest.mark.integration
async def test_postgres_replicas_starting_together_migrate_once(tmp_path: Path) -> None:
    schema = unique_name("migrate")
    try:
        assert await _open_concurrently(postgres_settings(schema), tmp_path) == ["0001"] * 4
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
