"""The studio's training page: start a training of the served project, watch it, cancel it.

`GET /studio/training` lists the project's trainings; `POST /studio/training` starts one
(`models:train`, audited `model_train_start`; 409 naming the running job when one runs);
`GET /studio/training/{job_id}` shows a job, whose `/progress` fragment the page polls every
second until the job ends; `POST /studio/training/{job_id}/cancel` stops it (audited
`model_train_cancel`); its end is audited `model_train` (target: the new version) as the
user who started it. Permissions are declared in `parley/access/policy.py`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from parley.studio.routes import Caller, StudioRefused, client_ip, render_page
from parley.studio.service import Studio
from parley.studio.trainer import Trainer
from parley.studio.training_jobs import LogLine, TrainingJob, TrainingJobs, TrainingRunning
from parley.studio.training_process import STAGES

LOG_TAIL = 400  # lines the page shows (the store keeps up to 2,000 a job)


def _stages(job: TrainingJob, lines: list[LogLine], now: float) -> list[tuple[str, str, float]]:
    """(stage, state, seconds spent) for each stage; state: done, current, failed, cancelled or
    waiting. A stage starts with the process's `stage: NAME` line."""
    started: dict[str, float] = {}
    for line in lines:
        if line.text.startswith("stage: "):
            started.setdefault(line.text.split()[1], line.at)
    reached = STAGES.index(job.stage) if job.stage in STAGES else -1
    end = job.finished_at if job.finished_at is not None else now
    shown = []
    for n, stage in enumerate(STAGES):
        if job.status == "succeeded" or n < reached:
            state = "done"
        elif n == reached:
            state = "current" if job.running else job.status
        else:
            state = "waiting"
        later = [started[s] for s in STAGES[n + 1 :] if s in started]
        seconds = (min(later) if later else end) - started[stage] if stage in started else 0.0
        shown.append((stage, state, max(0.0, seconds)))
    return shown


def training_router(studio: Studio) -> APIRouter:
    """The training routes, on a `Trainer` of the studio's project."""

    async def audit_end(job: TrainingJob) -> None:
        await studio.access.audit.record(
            job.started_by,
            "model_train",
            target=job.version or job.job_id,
            details={"via": "studio", "job": job.job_id, "status": job.status},
        )

    trainer = Trainer(TrainingJobs(studio.engine), studio.project, studio.endpoints, audit_end)
    jobs = trainer.jobs

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        yield
        await trainer.close()  # at shutdown, before the stores close: each job marked failed

    router = APIRouter(
        prefix="/studio/training", tags=["studio"], include_in_schema=False, lifespan=lifespan
    )

    async def _job(job_id: str) -> TrainingJob:
        job = await jobs.get(job_id)
        if job is None or job.project != str(studio.project.resolve()):
            raise StudioRefused(404, f"No training {job_id!r}.")
        return job

    async def _shown(
        request: Request, caller: Caller, job: TrainingJob, template: str
    ) -> HTMLResponse:
        lines = await jobs.lines(job.job_id)
        now = time.time()
        return render_page(
            request,
            template,
            caller,
            job=job,
            stages=_stages(job, lines, now),
            lines=[line.text for line in lines[-LOG_TAIL:]],
            hidden=max(0, len(lines) - LOG_TAIL),
            duration=job.duration(now),
        )

    @router.get("")
    async def training_page(request: Request, caller: Caller) -> HTMLResponse:
        recent = await jobs.recent(studio.project)
        return render_page(
            request,
            "training.html",
            caller,
            recent=recent,
            running=next((job for job in recent if job.running), None),
            now=time.time(),
        )

    @router.post("")
    async def start(
        request: Request, caller: Caller, force: Annotated[bool, Form()] = False
    ) -> Response:
        try:
            job = await trainer.start(caller.name, force=force)
        except TrainingRunning as exc:
            return render_page(
                request, "_training_busy.html", caller, 409, job=exc.job, message=str(exc)
            )
        except OSError as exc:
            raise StudioRefused(500, f"The training process could not start: {exc}") from None
        await studio.access.audit.record(
            caller.name,
            "model_train_start",
            target=job.job_id,
            ip=client_ip(request),
            details={"via": "studio", "force": force},
        )
        response = await _shown(request, caller, job, "_training_job.html")
        response.headers["HX-Redirect"] = f"/studio/training/{job.job_id}"
        return response

    @router.get("/{job_id}")
    async def job_page(request: Request, job_id: str, caller: Caller) -> HTMLResponse:
        return await _shown(request, caller, await _job(job_id), "training_job.html")

    @router.get("/{job_id}/progress")
    async def progress(request: Request, job_id: str, caller: Caller) -> HTMLResponse:
        return await _shown(request, caller, await _job(job_id), "_training_job.html")

    @router.post("/{job_id}/cancel")
    async def cancel(request: Request, job_id: str, caller: Caller) -> HTMLResponse:
        job = await _job(job_id)
        asked = await trainer.cancel(job.job_id)
        await studio.access.audit.record(
            caller.name,
            "model_train_cancel",
            target=job.job_id,
            ip=client_ip(request),
            details={"via": "studio", "was": job.status, "asked": asked},
        )
        if not asked:
            raise StudioRefused(409, f"Training {job_id} is not running (status: {job.status}).")
        return await _shown(request, caller, await _job(job_id), "_training_job.html")

    return router
