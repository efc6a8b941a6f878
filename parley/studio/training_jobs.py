"""Training jobs in the SQL store: their state, progress and log lines, readable by every worker.

One job runs at a time per project: a running job holds the project's key in the `running`
column, which is unique. A job's process is watched by the worker that started it, which writes
a heartbeat every few seconds; a running job whose heartbeat stops (its worker was restarted or
killed) is marked failed when anyone next looks, so none stays "running" for ever.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import training_jobs, training_log

STALE_AFTER = 30.0  # seconds without a heartbeat before a running job counts as dead
MAX_LOG_LINES = 2000  # per job; later lines are dropped (the outcome is kept apart)
FINISHED = ("succeeded", "unchanged", "failed", "cancelled")


@dataclass(frozen=True)
class TrainingJob:
    """One training, as the studio shows it."""

    job_id: str
    project: str
    status: str  # running, succeeded, unchanged, failed, cancelled
    stage: str
    stage_done: int | None
    stage_total: int | None
    stage_what: str | None
    started_by: str
    started_at: float
    finished_at: float | None
    heartbeat_at: float
    host: str
    pid: int | None
    cancel_requested: bool
    version: str | None
    model: str | None
    error: str | None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def duration(self, now: float | None = None) -> float:
        end = self.finished_at if self.finished_at is not None else (now or time.time())
        return max(0.0, end - self.started_at)


@dataclass(frozen=True)
class LogLine:
    at: float  # when the training process wrote it (the server received it, for stderr)
    text: str


class TrainingRunning(Exception):
    """A training of this project is already running (`job` says which)."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        super().__init__(
            f"Training {job.job_id} of this project, started by {job.started_by}, is still "
            f"running ({job.stage}); wait for it or cancel it."
        )


def project_key(project: Path) -> str:
    """The key one running job per project holds (the resolved project folder, hashed)."""
    return hashlib.sha256(str(project.resolve()).encode()).hexdigest()


def _job(row: Any) -> TrainingJob:
    values = dict(row._mapping)
    values.pop("running")
    values["cancel_requested"] = bool(values["cancel_requested"])
    return TrainingJob(**values)


class TrainingJobs:
    """The job table of one SQL store (the studio's tracker store)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start(self, project: Path, started_by: str, now: float | None = None) -> TrainingJob:
        """Record a new running job; raises TrainingRunning when one of `project` runs."""
        now = time.time() if now is None else now
        key = project_key(project)
        await self.reap(now)
        job_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(3)
        try:
            async with writer(self.engine).begin() as connection:
                await connection.execute(
                    insert(training_jobs).values(
                        job_id=job_id,
                        project=str(project.resolve()),
                        running=key,
                        status="running",
                        stage="starting",
                        started_by=started_by,
                        started_at=now,
                        heartbeat_at=now,
                        host=socket.gethostname()[:255],
                        cancel_requested=0,
                    )
                )
        except IntegrityError:
            running = await self._running(key)
            if running is None:  # it finished in between: try once more
                return await self.start(project, started_by)
            raise TrainingRunning(running) from None
        job = await self.get(job_id, reap=False)
        assert job is not None
        return job

    async def _running(self, key: str) -> TrainingJob | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(training_jobs).where(training_jobs.c.running == key)
                )
            ).first()
        return _job(row) if row is not None else None

    async def _update(self, job_id: str, only_running: bool = True, **values: Any) -> bool:
        query = update(training_jobs).where(training_jobs.c.job_id == job_id)
        if only_running:
            query = query.where(training_jobs.c.status == "running")
        async with writer(self.engine).begin() as connection:
            return (await connection.execute(query.values(**values))).rowcount > 0

    async def attach(self, job_id: str, pid: int) -> None:
        """Note the process that trains."""
        await self._update(job_id, pid=pid, heartbeat_at=time.time())

    async def progress(
        self, job_id: str, stage: str, done: int | None, total: int | None, what: str | None
    ) -> None:
        await self._update(
            job_id,
            stage=stage[:32],
            stage_done=done,
            stage_total=total,
            stage_what=(what or None) and what[:255],
            heartbeat_at=time.time(),
        )

    async def heartbeat(self, job_id: str) -> bool:
        """Say the job's process lives; True when someone asked to cancel it."""
        await self._update(job_id, heartbeat_at=time.time())
        job = await self.get(job_id, reap=False)
        return job is not None and job.cancel_requested

    async def request_cancel(self, job_id: str) -> bool:
        """Ask the worker watching the job to stop it; False when it is not running."""
        await self.reap()
        return await self._update(job_id, cancel_requested=1)

    async def finish(
        self,
        job_id: str,
        status: str,
        *,
        version: str | None = None,
        model: str | None = None,
        error: str | None = None,
    ) -> bool:
        """End a running job (frees its project for the next one); False when it had ended."""
        assert status in FINISHED
        return await self._update(
            job_id,
            status=status,
            running=None,
            finished_at=time.time(),
            version=version,
            model=model,
            error=error,
        )

    async def reap(self, now: float | None = None) -> int:
        """Mark failed every running job whose heartbeat stopped; how many there were."""
        now = time.time() if now is None else now
        stale = (training_jobs.c.status == "running") & (
            training_jobs.c.heartbeat_at < now - STALE_AFTER
        )
        async with self.engine.connect() as connection:  # a read first: pages poll often
            if (await connection.execute(select(func.count()).where(stale))).scalar_one() == 0:
                return 0
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                update(training_jobs)
                .where(stale)
                .values(
                    status="failed",
                    running=None,
                    finished_at=training_jobs.c.heartbeat_at,
                    error=(
                        "The training process stopped answering (its server worker was "
                        "restarted or stopped, or the process was killed); it stops before "
                        "registering once nobody reads it. Start a new training."
                    ),
                )
            )
        return int(result.rowcount)

    async def get(self, job_id: str, reap: bool = True) -> TrainingJob | None:
        if reap:
            await self.reap()
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(training_jobs).where(training_jobs.c.job_id == job_id)
                )
            ).first()
        return _job(row) if row is not None else None

    async def recent(self, project: Path, limit: int = 20) -> list[TrainingJob]:
        """The project's latest jobs, newest first."""
        await self.reap()
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(training_jobs)
                .where(training_jobs.c.project == str(project.resolve()))
                .order_by(training_jobs.c.started_at.desc())
                .limit(limit)
            )
            return [_job(row) for row in rows]

    async def add_lines(self, job_id: str, lines: list[str], at: float | None = None) -> None:
        """Append log lines written `at` (default: now), up to MAX_LOG_LINES a job."""
        if not lines:
            return
        async with writer(self.engine).begin() as connection:
            count = (
                await connection.execute(
                    select(func.count()).where(training_log.c.job_id == job_id)
                )
            ).scalar_one()
            room = max(0, MAX_LOG_LINES - count)
            now = time.time() if at is None else at
            rows = [
                {"job_id": job_id, "seq": count + n, "at": now, "line": line}
                for n, line in enumerate(lines[:room])
            ]
            if rows:
                await connection.execute(insert(training_log), rows)

    async def lines(self, job_id: str) -> list[LogLine]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(training_log.c.at, training_log.c.line)
                .where(training_log.c.job_id == job_id)
                .order_by(training_log.c.seq)
            )
            return [LogLine(row.at, row.line) for row in rows]
