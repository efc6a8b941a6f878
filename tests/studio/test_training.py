"""Training from the studio: real training processes on a copy of the help-desk project, the job
state in a real SQLite store, the new version in the project's model registry."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parley.access.audit import AuditFilter
from parley.access.service import Access
from parley.agent import Agent
from parley.cli.init import template_dir
from parley.models.service import Releases, open_releases
from parley.project.endpoints import Endpoints
from parley.security import ProjectSecrets
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from parley.stores.sql import SQLTrackerStore
from parley.studio.service import Studio
from parley.studio.trainer import ENDED_BY_SERVER, Trainer
from parley.studio.training_jobs import STALE_AFTER, TrainingJobs
from tests.access.conftest import Session, login

TIMEOUT = 240.0  # seconds: a training takes a few on a quiet machine, more on a busy one


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    """A copy of the starter help-desk project (`parley init`), untrained."""
    root = tmp_path / "bot"
    shutil.copytree(
        template_dir(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__")
    )
    return root


@pytest.fixture
def studio(store: SQLTrackerStore, bot: Path, access: Access) -> Studio:
    return Studio(store, bot, access)


@pytest.fixture
def server(studio: Studio, access: Access, helpdesk: Agent) -> ParleyServer:
    config = ServerConfig(enable_api=True)
    return create_app(AgentHolder(helpdesk, None), config, access=access, studio=studio)


@pytest.fixture
async def registry(bot: Path) -> AsyncIterator[Releases]:
    """The project's model registry, as `parley train` and the training process open it."""
    releases = await open_releases(Endpoints.parse(ProjectSecrets(bot).endpoints()), bot)
    yield releases
    await releases.close()


def status_of(html: str) -> str:
    found = re.search(r'id="status" class="status">(\w+)<', html)
    assert found, html
    return found.group(1)


async def start(session: Session, force: bool = False) -> str:
    response = await session.client.post(
        "/studio/training",
        data={"force": "true"} if force else {},
        headers={"X-CSRF-Token": session.csrf},
    )
    assert response.status_code == 200, response.text
    return response.headers["HX-Redirect"].rsplit("/", 1)[1]


async def finished(client: httpx.AsyncClient, job_id: str) -> str:
    """The job's fragment once it has ended (polled as the page polls it)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        response = await client.get(f"/studio/training/{job_id}/progress")
        assert response.status_code == 200, response.text
        if status_of(response.text) != "running":
            return response.text
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.3)


async def test_a_training_started_in_the_studio_registers_a_version_that_answers(
    server: ParleyServer, registry: Releases, access: Access, tmp_path: Path
) -> None:
    session = await login(server, "content_manager")
    async with session as client:
        job_id = await start(session)
        html = await finished(client, job_id)
        assert status_of(html) == "succeeded", html
        version = re.search(r'<b id="version">([^<]+)</b>', html)
        assert version, html
        assert "not served" in html and "parley rollout start --candidate" in html
        for stage in ("validating", "nlu", "dialogue", "packaging", "registering"):
            assert f'class="stage done" data-stage="{stage}"' in html
        assert "stage: nlu 6/6" in html  # the NLU pipeline's components, counted
        assert re.search(r'data-stage="nlu">NLU training\s+— done \(\d+\.\d s\)', html), html
        page = (await client.get(f"/studio/training/{job_id}")).text
        assert "NLU trained on" in page  # the process's log lines
    listed = {v.version: v for v in await registry.registry.list()}
    assert list(listed) == [version.group(1)]
    assert listed[version.group(1)].trained_by == "content_manager"
    assert await registry.registry.tagged("production") is None  # registered, not released
    archive = await registry.registry.fetch(version.group(1), tmp_path / "fetched")
    agent = Agent.load(archive)
    assert (await agent.parse("hello"))["intent"]["name"] == "greet"
    assert await agent.handle_message("someone", "hello")  # the bot replies
    rows = await access.audit.query(AuditFilter(action="model_train_start"))
    assert [(r.actor, r.target) for r in rows] == [("content_manager", job_id)]
    deadline = time.monotonic() + 30  # the end is audited just after the job row ends
    while not (rows := await access.audit.query(AuditFilter(action="model_train"))):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert [(r.actor, r.target) for r in rows] == [("content_manager", version.group(1))]


async def test_broken_data_fails_with_file_and_line_and_registers_nothing(
    server: ParleyServer, registry: Releases, bot: Path
) -> None:
    (bot / "data" / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: thank\n    examples: [unclosed\n'
    )
    session = await login(server, "admin")
    async with session as client:
        html = await finished(client, await start(session))
    assert status_of(html) == "failed"
    assert re.search(r"data/extra\.yml:[45]: YAML syntax error", html), html
    assert 'id="version"' not in html
    assert await registry.registry.list() == []
    assert not list(bot.glob("models/*.tar.gz"))


async def test_the_server_answers_while_a_training_runs(server: ParleyServer) -> None:
    session = await login(server, "content_manager")
    async with session as client:
        job_id = await start(session, force=True)
        answered_during = 0
        while True:
            before = status_of((await client.get(f"/studio/training/{job_id}/progress")).text)
            parsed = await client.post(
                "/model/parse", json={"text": "hello"}, headers={"X-CSRF-Token": session.csrf}
            )
            after = status_of((await client.get(f"/studio/training/{job_id}/progress")).text)
            assert parsed.status_code == 200, parsed.text
            assert parsed.json()["intent"]["name"] == "greet"
            if before == after == "running":
                answered_during += 1
            if after != "running":
                break
        assert answered_during > 0  # answered while the training process worked
        assert status_of(await finished(client, job_id)) == "succeeded"


async def test_a_second_training_is_refused_while_one_runs_and_unchanged_data_trains_nothing(
    server: ParleyServer,
) -> None:
    session = await login(server, "admin")
    async with session as client:
        job_id = await start(session)
        again = await client.post("/studio/training", headers={"X-CSRF-Token": session.csrf})
        assert again.status_code == 409
        assert job_id in again.text and "still running" in again.text
        assert status_of(await finished(client, job_id)) == "succeeded"
        page = await client.get("/studio/training")
        assert job_id in page.text
        html = await finished(client, await start(session))  # the data did not change since
        assert status_of(html) == "unchanged" and "Nothing changed" in html


async def test_a_cancelled_training_stops_and_registers_nothing(
    server: ParleyServer, registry: Releases, access: Access
) -> None:
    session = await login(server, "admin")
    async with session as client:
        job_id = await start(session)
        response = await client.post(
            f"/studio/training/{job_id}/cancel", headers={"X-CSRF-Token": session.csrf}
        )
        assert response.status_code == 200, response.text
        html = await finished(client, job_id)
        assert status_of(html) == "cancelled"
        again = await client.post(
            f"/studio/training/{job_id}/cancel", headers={"X-CSRF-Token": session.csrf}
        )
        assert again.status_code == 409 and "not running" in again.text
    assert await registry.registry.list() == []
    rows = await access.audit.query(AuditFilter(action="model_train_cancel"))
    assert [r.target for r in rows] == [job_id, job_id]


@pytest.mark.parametrize(
    ("role", "may_start"),
    [
        ("admin", True),
        ("content_manager", True),
        ("annotator", False),
        ("tester", False),
        ("analyst", False),
        ("viewer", False),
    ],
)
async def test_each_role_sees_the_page_and_only_trainers_may_start(
    server: ParleyServer, role: str, may_start: bool
) -> None:
    session = await login(server, role)
    async with session as client:
        page = await client.get("/studio/training")
        assert page.status_code == 200
        assert ('id="start"' in page.text) is may_start
        assert 'id="nav-training"' in page.text
        if not may_start:
            refused = await client.post("/studio/training", headers={"X-CSRF-Token": session.csrf})
            assert refused.status_code == 403 and "models:train" in refused.text
        missing = await client.get("/studio/training/20260101-000000-abcdef")
        assert missing.status_code == 404


async def test_the_page_shows_the_stage_and_its_count_while_a_job_runs(
    server: ParleyServer, studio: Studio
) -> None:
    jobs = TrainingJobs(studio.engine)
    job = await jobs.start(studio.project, "admin")
    await jobs.progress(job.job_id, "nlu", 3, 6, "DIETClassifier")
    await jobs.add_lines(job.job_id, ["stage: validating", "info: reading data/nlu.yml"])
    session = await login(server, "viewer")
    async with session as client:
        html = (await client.get(f"/studio/training/{job.job_id}")).text
    assert status_of(html) == "running"
    assert 'class="stage done" data-stage="validating"' in html
    assert 'class="stage current" data-stage="nlu"' in html
    assert "3/6 (50 %) DIETClassifier" in html
    assert 'class="stage waiting" data-stage="dialogue"' in html
    assert "info: reading data/nlu.yml" in html
    assert 'hx-trigger="every 1s"' in html  # the page keeps polling while the job runs
    assert 'id="cancel"' not in html  # a viewer may not cancel
    await jobs.finish(job.job_id, "failed", error="stopped for the test")


async def test_a_job_whose_process_died_is_marked_failed_and_frees_the_project(
    server: ParleyServer, studio: Studio
) -> None:
    """A worker restarted while it watched a training: no heartbeat comes any more."""
    jobs = TrainingJobs(studio.engine)
    old = time.time() - STALE_AFTER - 5
    dead = await jobs.start(studio.project, "admin", now=old)
    session = await login(server, "admin")
    async with session as client:
        html = (await client.get(f"/studio/training/{dead.job_id}")).text
        assert status_of(html) == "failed" and "stopped answering" in html
        job_id = await start(session)  # the project is free again
        await finished(client, job_id)


async def test_stopping_the_server_stops_its_training_and_marks_it_failed(
    studio: Studio,
) -> None:
    trainer = Trainer(TrainingJobs(studio.engine), studio.project)
    job = await trainer.start("admin", force=True)
    assert job.pid is not None
    await trainer.close()
    ended = await trainer.jobs.get(job.job_id)
    assert ended is not None and ended.status == "failed" and ended.error == ENDED_BY_SERVER
    with pytest.raises(ProcessLookupError):
        os.kill(job.pid, 0)
