"""OIDC login (code + PKCE) against the npm `oidc-provider` the test starts on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parley.access.audit import AuditFilter
from parley.access.errors import LoginFailed
from parley.access.service import Access
from parley.access.settings import AccessSettings, OidcSettings
from parley.access.sso.oidc import OidcClient
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.integration.idp.oidc import (
    OpenIdProvider,
    node_packages_ready,
    query_of,
    running_provider,
    sign_in,
)
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent

pytestmark = pytest.mark.integration
CALLBACK = "http://testserver/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    missing = node_packages_ready()
    if missing:
        pytest.fail(missing)
    with running_provider(CALLBACK) as provider:
        yield provider


def _oidc(provider: OpenIdProvider, client_id: str = "parley", **extra: object) -> dict:
    return {
        "issuer": provider.issuer,
        "client_id": client_id,
        "client_secret": provider.client_secret(client_id),
        "redirect_uri": CALLBACK,
        "scopes": "openid profile email groups",
        "groups": {"parley-admins": "admin", "labellers": "annotator"},
        **extra,
    }


@pytest.fixture
async def access(provider: OpenIdProvider, tmp_path: Path) -> AsyncIterator[Access]:
    settings = AccessSettings.model_validate({"oidc": _oidc(provider)})
    access = await Access.open(settings, tmp_path)
    yield access
    await access.close()


@pytest.fixture
def server(access: Access) -> ParleyServer:
    return create_app(AgentHolder(helpdesk_agent(), None), ServerConfig(), access=access)


async def _browser_login(server: ParleyServer, username: str) -> tuple[int, str, dict]:
    """(callback status, where it redirects, /auth/me) for a full browser login."""
    async with client_for(server) as browser:
        start = await browser.get("/auth/oidc/login", params={"next": "/chat"})
        assert start.status_code == 302
        callback = await asyncio.to_thread(sign_in, start.headers["location"], username)
        assert callback.startswith(CALLBACK)
        done = await browser.get(callback.removeprefix("http://testserver"))
        me = (await browser.get("/auth/me")).json() if done.status_code == 303 else {}
        return done.status_code, done.headers.get("location", ""), me


async def test_login_through_the_provider_maps_groups_to_roles(
    server: ParleyServer, access: Access
) -> None:
    status, target, me = await _browser_login(server, "alice")
    assert (status, target) == (303, "/chat")  # back where the login started
    assert (me["username"], me["role"], me["via"]) == ("alice", "admin", "session")
    status, _, me = await _browser_login(server, "bob")
    assert (status, me["role"]) == (303, "annotator")
    status, _, me = await _browser_login(server, "carol")
    assert (status, me["role"]) == (303, "viewer")
    alice = await access.users.get("alice")
    assert alice is not None and (alice.source, alice.role, alice.email) == (
        "oidc", "admin", "alice@parley.test"
    )  # fmt: skip


async def test_a_replayed_or_forged_callback_is_refused(
    server: ParleyServer, access: Access
) -> None:
    async with client_for(server) as browser:
        start = await browser.get("/auth/oidc/login")
        callback = await asyncio.to_thread(sign_in, start.headers["location"], "alice")
        path = callback.removeprefix("http://testserver")
        forged = path.replace("state=", "state=x")
        assert (await browser.get(forged)).status_code == 401
    async with client_for(server) as browser:
        start = await browser.get("/auth/oidc/login")
        cookie = browser.cookies["parley_oidc"]
        callback = await asyncio.to_thread(sign_in, start.headers["location"], "alice")
        path = callback.removeprefix("http://testserver")
        assert (await browser.get(path)).status_code == 303
        browser.cookies.set("parley_oidc", cookie, path="/auth/oidc")  # an attacker replays it
        replay = await browser.get(path)
    assert replay.status_code == 401 and "already used" in replay.json()["message"]
    failed = await access.audit.query(AuditFilter(actor="oidc:unknown", result="failed"))
    assert len(failed) == 2


async def _tokens(client: OidcClient, username: str) -> tuple[dict, str]:
    """A real token response for `client` (its own code exchange) and the login's nonce."""
    url, pending = await client.start()
    callback = await asyncio.to_thread(sign_in, url, username)
    return await client.exchange(query_of(callback), pending), pending["nonce"]


async def test_tampered_expired_foreign_and_replayed_id_tokens_are_refused(
    provider: OpenIdProvider,
) -> None:
    parley = OidcClient(OidcSettings.model_validate(_oidc(provider)))
    tokens, nonce = await _tokens(parley, "bob")
    claims = await parley.validate_id_token(tokens["id_token"], nonce)
    assert claims["groups"] == ["labellers"] and claims["aud"] == "parley"

    header, payload, signature = tokens["id_token"].split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["groups"] = ["parley-admins"]  # promote bob
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(LoginFailed, match="BadSignature"):
        await parley.validate_id_token(f"{header}.{forged}.{signature}", nonce)

    with pytest.raises(LoginFailed):  # the nonce of another login: a replayed token
        await parley.validate_id_token(tokens["id_token"], "another-login-nonce")

    other = OidcClient(OidcSettings.model_validate(_oidc(provider, "other-app")))
    foreign, foreign_nonce = await _tokens(other, "bob")
    with pytest.raises(LoginFailed):  # issued to another client: wrong audience
        await parley.validate_id_token(foreign["id_token"], foreign_nonce)

    short = OidcClient(OidcSettings.model_validate(_oidc(provider, "short-lived")), leeway=0)
    expiring, expiring_nonce = await _tokens(short, "bob")
    await asyncio.sleep(2.1)  # the provider issues this client's ID tokens for 1 s
    with pytest.raises(LoginFailed, match="Expired"):
        await short.validate_id_token(expiring["id_token"], expiring_nonce)
