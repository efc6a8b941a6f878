"""The training job table on SQLite and PostgreSQL: one running job per project, however many
workers ask at once; finished and dead jobs free the project; log lines in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio.training_jobs import (
    MAX_LOG_LINES,
    STALE_AFTER,
    TrainingJobs,
    TrainingRunning,
)
from tests.stores.conftest import drop_schema, postgres_settings, unique_name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def jobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TrainingJobs]:
    if request.param == "sqlite":
        store = await SQLTrackerStore.open(SQLSettings(db="jobs.db"), tmp_path)
        yield TrainingJobs(store.engine)
        await store.close()
        return
    schema = unique_name("training")
    store = await SQLTrackerStore.open(postgres_settings(schema), tmp_path)
    try:
        yield TrainingJobs(store.engine)
    finally:
        await store.close()
        await drop_schema(schema)


async def test_only_one_of_many_simultaneous_starts_runs(
    jobs: TrainingJobs, tmp_path: Path
) -> None:
    results = await asyncio.gather(
        *(jobs.start(tmp_path, f"user{n}") for n in range(6)), return_exceptions=True
    )
    started = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, TrainingRunning)]
    assert len(started) == 1 and len(refused) == 5
    assert all(r.job.job_id == started[0].job_id for r in refused)
    assert started[0].job_id in str(refused[0])
    other = await jobs.start(tmp_path / "another-project", "admin")  # per project
    assert other.running


async def test_a_finished_job_frees_its_project(jobs: TrainingJobs, tmp_path: Path) -> None:
    first = await jobs.start(tmp_path, "admin")
    assert await jobs.finish(first.job_id, "succeeded", version="v1", model="v1.tar.gz")
    assert not await jobs.finish(first.job_id, "failed")  # an ended job stays as it ended
    second = await jobs.start(tmp_path, "admin")
    assert [j.job_id for j in await jobs.recent(tmp_path)] == [second.job_id, first.job_id]
    done = await jobs.get(first.job_id)
    assert done is not None and (done.status, done.version) == ("succeeded", "v1")


async def test_a_job_without_heartbeat_is_reaped_and_a_live_one_is_not(
    jobs: TrainingJobs, tmp_path: Path
) -> None:
    alive = await jobs.start(tmp_path / "b", "admin")
    dead = await jobs.start(tmp_path / "a", "admin", now=time.time() - STALE_AFTER - 1)
    assert await jobs.reap() == 1
    reaped, running = await jobs.get(dead.job_id), await jobs.get(alive.job_id)
    assert reaped is not None and reaped.status == "failed" and reaped.finished_at is not None
    assert running is not None and running.running
    assert await jobs.request_cancel(alive.job_id)
    assert await jobs.heartbeat(alive.job_id)  # the watching worker hears the cancel
    assert not await jobs.request_cancel(dead.job_id)


async def test_log_lines_keep_their_order_up_to_the_limit(
    jobs: TrainingJobs, tmp_path: Path
) -> None:
    job = await jobs.start(tmp_path, "admin")
    await jobs.add_lines(job.job_id, ["one", "two"])
    await jobs.add_lines(job.job_id, [f"line {n}" for n in range(MAX_LOG_LINES)])
    lines = [line.text for line in await jobs.lines(job.job_id)]
    assert lines[:3] == ["one", "two", "line 0"] and len(lines) == MAX_LOG_LINES
