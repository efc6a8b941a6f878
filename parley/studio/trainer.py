"""`Trainer`: starts a training of the served project in its own process and follows it.

The process (`parley.studio.training_process`) trains at a lower priority and reports JSON lines;
this side turns them into the job's progress, log and outcome in the SQL store
(`TrainingJobs`), so any worker can show them. It only awaits pipes and the database: the
server's event loop never trains. The worker that starts a job watches it until it ends: a
heartbeat every few seconds, and a cancel asked through any worker stops the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.studio.training_jobs import TrainingJob, TrainingJobs

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
STOP_GRACE_SECONDS = 5.0  # after SIGTERM, before SIGKILL
LINE_LIMIT = 4 * 2**20  # bytes of one line: an outcome lists every validation error
ENDED_BY_SERVER = "The server stopped while this training ran; no model was registered."


@dataclass
class _Outcome:
    """What the process said last, and whether someone cancelled it."""

    line: dict[str, Any] | None = None
    stage: str = "starting"
    cancelled: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a cancel asked here
    stderr_tail: list[str] = field(default_factory=list)


@dataclass
class Trainer:
    """Trainings of `project` (the folder `parley run` serves); `endpoints` as given to it."""

    jobs: TrainingJobs
    project: Path
    endpoints: Path | None = None
    on_end: Callable[[TrainingJob], Awaitable[None]] | None = None  # e.g. the audit log
    _watching: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _outcomes: dict[str, _Outcome] = field(default_factory=dict)

    async def start(self, started_by: str, force: bool = False) -> TrainingJob:
        """Start a training; raises TrainingRunning when one of the project runs already."""
        job = await self.jobs.start(self.project, started_by)
        command = [
            sys.executable,
            "-m",
            "parley.studio.training_process",
            "--project",
            str(self.project),
            "--trained-by",
            started_by,
        ]
        if self.endpoints is not None:
            command += ["--endpoints", str(self.endpoints)]
        if force:
            command.append("--force")
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=str(self.project),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            await self.jobs.finish(job.job_id, "failed", error=f"cannot start training: {exc}")
            raise
        await self.jobs.attach(job.job_id, process.pid)
        task = asyncio.create_task(self._watch(job.job_id, process))
        self._watching[job.job_id] = task
        task.add_done_callback(lambda _: self._watching.pop(job.job_id, None))
        started = await self.jobs.get(job.job_id, reap=False)
        return started or job

    async def cancel(self, job_id: str) -> bool:
        """Ask the job's process to stop (now when this worker watches it, else at the watching
        worker's next heartbeat); False when the job is not running."""
        asked = await self.jobs.request_cancel(job_id)
        if asked and job_id in self._outcomes:
            self._outcomes[job_id].wake.set()
        return asked

    async def close(self) -> None:
        """Stop the trainings this worker watches (each is marked failed)."""
        tasks = list(self._watching.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, job_id: str, process: asyncio.subprocess.Process) -> None:
        outcome = self._outcomes[job_id] = _Outcome()
        try:
            await _gather_cancelling(
                self._read_lines(job_id, process, outcome),
                self._read_stderr(job_id, process, outcome),
                self._beat(job_id, process, outcome),
            )
            await self._finish(job_id, await process.wait(), outcome)
            await self._ended(job_id)
        except asyncio.CancelledError:
            await _stop(process)
            with contextlib.suppress(Exception):
                await asyncio.shield(self.jobs.finish(job_id, "failed", error=ENDED_BY_SERVER))
            raise
        except Exception as exc:  # the database went away: the heartbeat stops, the job is reaped
            logger.exception("lost track of training %s", job_id)
            await _stop(process)
            with contextlib.suppress(Exception):
                await self.jobs.finish(job_id, "failed", error=f"The server lost the job: {exc}")
        finally:
            self._outcomes.pop(job_id, None)

    async def _ended(self, job_id: str) -> None:
        ended = await self.jobs.get(job_id, reap=False)
        if ended is None or self.on_end is None:
            return
        try:
            await self.on_end(ended)
        except Exception:  # the job is over either way; say what was not recorded
            logger.exception("training %s ended (%s) but on_end failed", job_id, ended.status)

    async def _read_lines(
        self, job_id: str, process: asyncio.subprocess.Process, outcome: _Outcome
    ) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                await self.jobs.add_lines(job_id, [raw.decode(errors="replace").rstrip()])
                continue
            at = line.get("at") if isinstance(line.get("at"), float) else None
            if "stage" in line:
                outcome.stage = str(line["stage"])
                await self.jobs.progress(
                    job_id,
                    str(line["stage"]),
                    line.get("done"),
                    line.get("total"),
                    line.get("what"),
                )
                await self.jobs.add_lines(job_id, [f"stage: {line['stage']}" + _count(line)], at)
            elif "log" in line:
                await self.jobs.add_lines(job_id, [str(line["log"])], at)
            elif "outcome" in line:
                outcome.line = line

    async def _read_stderr(
        self, job_id: str, process: asyncio.subprocess.Process, outcome: _Outcome
    ) -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            text = raw.decode(errors="replace").rstrip()
            outcome.stderr_tail = [*outcome.stderr_tail[-9:], text]
            await self.jobs.add_lines(job_id, [text])

    async def _beat(
        self, job_id: str, process: asyncio.subprocess.Process, outcome: _Outcome
    ) -> None:
        while process.returncode is None:
            asked = await self.jobs.heartbeat(job_id)
            # once registering, the version is as good as made: stopping could leave half of it
            if asked and not outcome.cancelled and outcome.stage != "registering":
                outcome.cancelled = True
                await self.jobs.add_lines(job_id, ["cancelled: stopping the training process"])
                await _stop(process)
                return
            ended = asyncio.ensure_future(process.wait())
            woken = asyncio.ensure_future(outcome.wake.wait())
            await asyncio.wait(
                {ended, woken}, timeout=HEARTBEAT_SECONDS, return_when="FIRST_COMPLETED"
            )
            ended.cancel()
            woken.cancel()
            outcome.wake.clear()

    async def _finish(self, job_id: str, code: int, outcome: _Outcome) -> None:
        line = outcome.line or {}
        if outcome.cancelled and line.get("outcome") != "registered":
            await self.jobs.finish(job_id, "cancelled", error="Cancelled; no model was registered.")
        elif line.get("outcome") == "registered":
            await self.jobs.finish(
                job_id, "succeeded", version=line.get("version"), model=line.get("model")
            )
        elif line.get("outcome") == "unchanged":
            await self.jobs.finish(job_id, "unchanged", model=line.get("model"))
        elif line.get("outcome") == "failed":
            await self.jobs.finish(
                job_id, "failed", error=str(line.get("error")), model=line.get("model")
            )
        else:
            tail = "\n".join(outcome.stderr_tail)
            await self.jobs.finish(
                job_id,
                "failed",
                error=f"The training process ended with code {code} before finishing.\n{tail}",
            )


def _count(line: dict[str, Any]) -> str:
    if line.get("total"):
        return f" {line.get('done')}/{line['total']} {line.get('what') or ''}".rstrip()
    return ""


async def _gather_cancelling(*work: Coroutine[Any, Any, None]) -> None:
    """Run `work` together; when one fails, the others are cancelled."""
    async with asyncio.TaskGroup() as group:
        for item in work:
            group.create_task(item)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if the process lingers."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
