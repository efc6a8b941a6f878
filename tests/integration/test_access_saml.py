"""SAML 2.0 login against a pysaml2 identity provider the test runs in a subprocess."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from parley.access.service import Access
from parley.access.settings import AccessSettings
from parley.access.sso.saml import SamlServiceProvider
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.conftest import REPO
from tests.integration.idp.saml_idp import write_idp_files
from tests.ports import free_port
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent

pytestmark = pytest.mark.integration
_HIDDEN = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


def _settings(idp_metadata: Path) -> AccessSettings:
    return AccessSettings.model_validate(
        {
            "saml": {
                "idp_metadata_file": str(idp_metadata),
                "entity_id": "http://testserver/auth/saml/metadata",
                "acs_url": "http://testserver/auth/saml/acs",
                "groups": {"parley-admins": "admin", "labellers": "annotator"},
                "clock_skew_seconds": 0,
            }
        }
    )


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AccessSettings]:
    """The IdP running; yields the SP settings that trust it."""
    folder = tmp_path_factory.mktemp("saml-idp")
    port = free_port()
    settings = _settings(write_idp_files(folder, port))
    (folder / "sp.xml").write_text(SamlServiceProvider(settings.saml, folder).metadata_xml())  # type: ignore[arg-type]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.idp.saml_idp", str(folder), str(port)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready", (
            process.stderr.read() if process.stderr else ""
        )
        yield settings
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def access(idp: AccessSettings, tmp_path: Path) -> AsyncIterator[Access]:
    access = await Access.open(idp, tmp_path)
    yield access
    await access.close()


@pytest.fixture
def server(access: Access) -> ParleyServer:
    return create_app(AgentHolder(helpdesk_agent(), None), ServerConfig(), access=access)


async def _assertion(browser: httpx.AsyncClient, **knobs: str) -> dict[str, str]:
    """Start a login at Parley and let the IdP answer; returns the form it would POST."""
    start = await browser.get("/auth/saml/login", params={"next": "/chat"})
    assert start.status_code == 302
    async with httpx.AsyncClient(timeout=30) as at_idp:
        page = await at_idp.get(start.headers["location"] + "&" + urlencode(knobs))
    assert page.status_code == 200, page.text[-1500:]
    return dict(_HIDDEN.findall(page.text))


async def _post(browser: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await browser.post("/auth/saml/acs", data=form)


async def test_login_maps_groups_to_roles(server: ParleyServer, access: Access) -> None:
    for user, role in (("alice", "admin"), ("bob", "annotator"), ("carol", "viewer")):
        async with client_for(server) as browser:
            done = await _post(browser, await _assertion(browser, user=user))
            assert (done.status_code, done.headers["location"]) == (303, "/chat"), done.text
            me = (await browser.get("/auth/me")).json()
            assert (me["username"], me["role"]) == (user, role)
    bob = await access.users.get("bob")
    assert bob is not None and (bob.source, bob.email) == ("saml", "bob@parley.test")


async def test_a_replayed_assertion_is_refused(server: ParleyServer) -> None:
    async with client_for(server) as browser:
        form = await _assertion(browser, user="bob")
        assert (await _post(browser, form)).status_code == 303
        replay = await _post(browser, form)
    assert replay.status_code == 401 and "already used" in replay.json()["message"]


async def test_a_tampered_assertion_is_refused(server: ParleyServer) -> None:
    async with client_for(server) as browser:
        form = await _assertion(browser, user="bob")
        xml = base64.b64decode(form["SAMLResponse"]).decode()
        assert "labellers" in xml
        forged = xml.replace("labellers", "parley-admins")  # promote bob
        form["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
        response = await _post(browser, form)
        assert (await browser.get("/auth/me")).status_code == 401
    assert response.status_code == 401 and "SignatureError" in response.json()["message"]


async def test_an_assertion_for_another_audience_is_refused(server: ParleyServer) -> None:
    async with client_for(server) as browser:
        form = await _assertion(browser, user="alice", audience="https://other-sp.example")
        response = await _post(browser, form)
    assert response.status_code == 401


async def test_an_expired_assertion_is_refused(server: ParleyServer) -> None:
    async with client_for(server) as browser:
        form = await _assertion(browser, user="alice", lifetime="1")
        await asyncio.sleep(2.5)
        response = await _post(browser, form)
    assert response.status_code == 401 and "LifetimeExceed" in response.json()["message"]


async def test_an_unsolicited_or_foreign_relay_state_is_refused(server: ParleyServer) -> None:
    async with client_for(server) as browser:
        form = await _assertion(browser, user="alice")
        form["RelayState"] = "forged"
        assert (await _post(browser, form)).status_code == 401
        del form["RelayState"]
        assert (await _post(browser, form)).status_code == 401


async def test_the_sp_metadata_is_served(server: ParleyServer) -> None:
    async with client_for(server) as client:
        response = await client.get("/auth/saml/metadata")
    assert response.status_code == 200
    assert 'entityID="http://testserver/auth/saml/metadata"' in response.text
    assert "http://testserver/auth/saml/acs" in response.text
