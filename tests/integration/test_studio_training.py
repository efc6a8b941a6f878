"""Training from the studio against `parley run --workers 2` on a copy of the trained help-desk
project: in headless Chromium a content manager starts a training, watches its stages and gets
a registered version while the bot keeps answering, then sees a broken data file's error with
its file and line; a training whose worker is killed is marked failed and frees the project;
stopping `parley run` stops its training.
Screenshots go to build/test-artifacts/studio/ (10-… to 13-…)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from parley.access.passwords import hash_password
from parley.access.service import Access
from parley.access.settings import AccessSettings
from parley.models.service import open_releases
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio.trainer import ENDED_BY_SERVER
from parley.studio.training_jobs import TrainingJobs
from tests.integration.test_parley_run import project  # noqa: F401  (fixture)
from tests.integration.test_parley_run_workers import _alive
from tests.integration.test_studio_browser import _driver, _login, _shot
from tests.integration.test_webchat_browser import _need_browser
from tests.parley_run import parley_run
from tests.server.helpdesk import GREETING

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
TIMEOUT = 240.0


async def _users(root: Path) -> None:
    access = await Access.open(AccessSettings(), root)
    try:
        await access.users.create("trainer", "content_manager", "local", hash_password(PASSWORD))
    finally:
        await access.close()


@pytest.fixture
def served(project: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:  # noqa: F811
    """`parley run --workers 2` with access control on, and a content manager `trainer`."""
    (project / "parley.yml").write_text("access: {}\n")
    asyncio.run(_users(project))
    with parley_run(project, "--enable-api", workers=2, log=tmp_path / "server.log") as server:
        yield server.url, project


@contextmanager
def _api(url: str) -> Iterator[httpx.Client]:
    """A client logged in as the trainer, sending its CSRF token."""
    with httpx.Client(base_url=url, timeout=30) as client:
        reply = client.post("/auth/login", json={"username": "trainer", "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
        yield client


def _status(html: str) -> str:
    found = re.search(r'id="status" class="status">(\w+)<', html)
    assert found, html
    return found.group(1)


def _text(driver, element_id: str) -> str:  # type: ignore[no-untyped-def]
    """An element's text, read again when htmx swapped it out meanwhile."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(20):
        try:
            return str(driver.find_element(By.ID, element_id).text)
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.05)
    return str(driver.find_element(By.ID, element_id).text)


def _versions(root: Path) -> list[str]:
    async def listed() -> list[str]:
        releases = await open_releases({}, root)
        try:
            return [v.version for v in await releases.registry.list()]
        finally:
            await releases.close()

    return asyncio.run(listed())


def test_a_content_manager_trains_from_the_studio_while_the_bot_answers(
    served: tuple[str, Path],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _need_browser()
    url, root = served
    before = _versions(root)
    driver = _driver()
    try:
        _login(driver, url, "/studio/training", "trainer")
        _shot(driver, "training-01-page")
        driver.find_element(By.NAME, "force").click()  # the project's model is up to date
        driver.find_element(By.ID, "start").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "stages"))
        job_id = driver.current_url.rsplit("/", 1)[1]
        answered, shot = 0, False
        while _text(driver, "status") == "running":
            # the bot answers while the training process works (new connections: both workers)
            reply = httpx.post(
                f"{url}/webhooks/rest/webhook", json={"sender": f"u{answered}", "message": "hi"}
            )
            assert reply.status_code == 200 and reply.json()[0]["text"].startswith(GREETING)
            answered += 1
            if not shot and driver.find_elements(By.CSS_SELECTOR, ".stage.current"):
                _shot(driver, "training-02-progress")
                shot = True
            time.sleep(0.2)
        WebDriverWait(driver, TIMEOUT).until(lambda d: _text(d, "status") != "running")
        _shot(driver, "training-03-done")
        assert _text(driver, "status") == "succeeded"
        version = _text(driver, "version")
        assert answered > 0
        with _api(url) as api:  # any worker shows the job from the SQL store
            pages = [api.get(f"/studio/training/{job_id}/progress").text for _ in range(6)]
            assert {_status(page) for page in pages} == {"succeeded"}
            assert all(version in page for page in pages)

        (root / "data" / "broken.yml").write_text('version: "3.1"\nnlu:\n  - intent: [oops\n')
        driver.get(f"{url}/studio/training")
        driver.find_element(By.ID, "start").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "stages"))
        WebDriverWait(driver, TIMEOUT).until(lambda d: _text(d, "status") != "running")
        _shot(driver, "training-04-error")
        assert _text(driver, "status") == "failed"
        assert re.search(r"data/broken\.yml:\d+: YAML syntax error", driver.page_source)
    finally:
        driver.quit()
    assert _versions(root) == [version, *before]  # newest first: the one new version


def _training_process(root: Path) -> int | None:
    """The pid of the studio's training process of the project in `root`, if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"parley.studio.training_process" in command and str(root).encode() in command:
            return int(entry.name)
    return None


def _get(api: httpx.Client, path: str) -> str:
    """GET, again when the connection was to the killed worker."""
    for _ in range(5):
        try:
            return api.get(path).text
        except httpx.TransportError:
            time.sleep(0.5)
    return api.get(path).text


def _start_training(api: httpx.Client, root: Path) -> tuple[str, int]:
    """Start a training; its job id and the pid of its process, once it runs."""
    started = api.post("/studio/training", data={"force": "true"})
    assert started.status_code == 200, started.text
    deadline = time.monotonic() + 30
    while (child := _training_process(root)) is None:
        assert time.monotonic() < deadline, "no training process"
        time.sleep(0.05)
    return started.headers["HX-Redirect"].rsplit("/", 1)[1], child


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1])


def test_a_training_whose_worker_is_killed_is_marked_failed(served: tuple[str, Path]) -> None:
    url, root = served
    with _api(url) as api:
        job_id, child = _start_training(api, root)
        os.kill(_parent(child), signal.SIGKILL)  # the worker watching the training
        deadline = time.monotonic() + TIMEOUT
        while _status(html := _get(api, f"/studio/training/{job_id}/progress")) == "running":
            assert time.monotonic() < deadline, html
            time.sleep(0.5)
        assert _status(html) == "failed" and "stopped answering" in html
        while _alive(child):  # with nobody reading its lines, the process stops
            assert time.monotonic() < deadline, "the orphaned training process runs on"
            time.sleep(0.2)
        again = api.post("/studio/training", data={"force": "true"})
        assert again.status_code == 200, again.text  # the project is free for a new training


def test_stopping_parley_run_stops_its_training_and_marks_it_failed(
    served: tuple[str, Path],
) -> None:
    url, root = served
    with _api(url) as api:
        job_id, child = _start_training(api, root)
    supervisor = _parent(_parent(child))
    os.kill(supervisor, signal.SIGTERM)  # parley run stops: its workers shut down
    deadline = time.monotonic() + 60
    while _alive(child):
        assert time.monotonic() < deadline, "the training process outlived the server"
        time.sleep(0.1)
    assert _job_row(root, job_id) == ("failed", ENDED_BY_SERVER)


def _job_row(root: Path, job_id: str) -> tuple[str, str | None]:
    async def read() -> tuple[str, str | None]:
        store = await SQLTrackerStore.open(SQLSettings(), root)
        try:
            job = await TrainingJobs(store.engine).get(job_id, reap=False)
        finally:
            await store.close()
        assert job is not None
        return job.status, job.error

    return asyncio.run(read())
