"""Guest links under `parley run --workers 2`: a link pinned to a registered version that the
server does not serve is answered by that version whichever worker takes the message (each
loads its own copy), the guest keeps one conversation across workers, and a revocation made
through one worker stops the chat on every worker at once."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley.models.service import open_releases
from parley.security.config import load_endpoints
from tests.integration.test_studio_browser import PASSWORD, _users
from tests.parley_run import parley_run
from tests.server.helpdesk import GREETING, helpdesk_model, helpdesk_variant
from tests.studio.test_share import OTHER_GREETING

pytestmark = pytest.mark.integration


async def _register(root: Path, archive: Path) -> str:
    releases = await open_releases(load_endpoints(root), root)
    try:
        return (await releases.registry.register(archive)).version
    finally:
        await releases.close()


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`parley run --workers 2` serving the help-desk model, with another version registered."""
    root = tmp_path / "bot"
    shutil.copytree(helpdesk_model().parents[1], root, ignore=shutil.ignore_patterns("*.db*"))
    (root / "parley.yml").write_text("access: {}\n")
    asyncio.run(_users(root))
    other = asyncio.run(_register(root, helpdesk_variant(OTHER_GREETING)))
    served = f"models/{helpdesk_model().name}"
    with parley_run(root, "--model", served, workers=2, log=tmp_path / "server.log") as server:
        yield server.url, other, server.log


def _login(url: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url)
    response = client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]


def test_a_pinned_link_works_across_workers_and_its_revocation_reaches_all(
    two_workers: tuple[str, str, Path],
) -> None:
    url, other, log = two_workers
    tester, csrf = _login(url, "tester")
    created = tester.post(
        "/studio/share",
        data={"name": "workers", "version": other},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    link = re.search(r'id="share-url" readonly size="90" value="([^"]+)"', created.text)
    assert link is not None
    path = link.group(1).removeprefix(url)

    with httpx.Client(base_url=url) as page:
        assert page.get(path).status_code == 200
        cookies = page.cookies
    for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
        with httpx.Client(base_url=url, cookies=cookies) as guest:
            reply = guest.post(f"{path}/webhook", json={"sender": "x", "message": "hi"})
        assert reply.status_code == 200, reply.text
        texts = " ".join(m.get("text", "") for m in reply.json())
        assert OTHER_GREETING in texts and GREETING not in texts
    assert log.read_text().count(f"loaded model {other} for a guest link") == 2  # both workers

    annotator, _ = _login(url, "annotator")
    listed = annotator.get("/studio/conversations?tag=workers").text
    assert len(re.findall(r'<td><a href="/studio/conversations/share-', listed)) == 1

    link_id = path.removeprefix("/share/").split("_")[0]
    revoked = tester.post(f"/studio/share/{link_id}/revoke", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200
    for _ in range(6):
        with httpx.Client(base_url=url, cookies=cookies) as guest:
            assert guest.post(f"{path}/webhook", json={"message": "hi"}).status_code == 410
            assert guest.get(path).status_code == 410
    tester.close()
    annotator.close()
