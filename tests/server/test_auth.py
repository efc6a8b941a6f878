"""Token and JWT auth on the HTTP API; channels and health stay open."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from parley.server import ServerConfig
from parley.server.auth import open_api_warning
from tests.server.conftest import ServerFactory, client_for

SECRET = "test-jwt-secret-at-least-32-bytes-long!"


def bearer(user: dict[str, str], secret: str = SECRET, **claims: object) -> dict[str, str]:
    token = jwt.encode({"user": user, **claims}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def token_client(make_server: ServerFactory) -> httpx.AsyncClient:
    return client_for(make_server(auth_token="s3cret"))


@pytest.fixture
async def jwt_client(make_server: ServerFactory) -> httpx.AsyncClient:
    return client_for(make_server(jwt_secret=SECRET))


async def test_token_in_query_or_bearer_grants_access(token_client: httpx.AsyncClient) -> None:
    async with token_client as c:
        assert (await c.get("/status")).status_code == 401
        assert (await c.get("/status", params={"token": "wrong"})).status_code == 401
        assert (await c.get("/status", params={"token": "s3cret"})).status_code == 200
        ok = await c.get("/status", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


async def test_unauthenticated_reply_is_json_401(token_client: httpx.AsyncClient) -> None:
    async with token_client as c:
        reply = await c.post("/model/parse", json={"text": "hi"})
    assert reply.status_code == 401
    assert reply.json()["message"] == "User is not authenticated."


async def test_open_routes_need_no_token(token_client: httpx.AsyncClient) -> None:
    async with token_client as c:
        for path in ("/", "/version", "/health/live", "/health/ready", "/metrics", "/chat"):
            assert (await c.get(path)).status_code == 200, path
        hook = await c.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hi"})
        assert hook.status_code == 200


async def test_jwt_admin_reaches_any_conversation(jwt_client: httpx.AsyncClient) -> None:
    async with jwt_client as c:
        headers = bearer({"username": "root", "role": "admin"})
        assert (await c.get("/conversations/zed/tracker", headers=headers)).status_code == 200
        assert (await c.get("/status", headers=headers)).status_code == 200


async def test_jwt_user_reaches_only_its_own_conversation(jwt_client: httpx.AsyncClient) -> None:
    async with jwt_client as c:
        headers = bearer({"username": "ann", "role": "user"})
        assert (await c.get("/conversations/ann/tracker", headers=headers)).status_code == 200
        other = await c.get("/conversations/bob/tracker", headers=headers)
        assert other.status_code == 403
        assert other.json()["message"] == "User has insufficient permission."
        assert (await c.get("/status", headers=headers)).status_code == 403
        release = await c.post("/admin/conversations/ann/handoff/release", headers=headers)
        assert release.status_code == 403
        swap = await c.put("/model", json={"model_file": "x"}, headers=headers)
        assert swap.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        bearer({"username": "ann", "role": "admin"}, secret="another-secret-another-secret-xx"),
        bearer({"username": "ann", "role": "admin"}, exp=int(time.time()) - 10),
        bearer({"username": "ann", "role": "superuser"}),
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Basic abc"},
    ],
)
async def test_bad_jwts_are_refused(jwt_client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    async with jwt_client as c:
        assert (await c.get("/conversations/ann/tracker", headers=headers)).status_code == 401


async def test_user_role_may_not_use_admin_token_path(make_server: ServerFactory) -> None:
    config = ServerConfig(enable_api=True, auth_token="s3cret", jwt_secret=SECRET)
    async with client_for(make_server(config)) as c:
        user = bearer({"username": "ann", "role": "user"})
        assert (await c.get("/conversations/ann/tracker", headers=user)).status_code == 200
        admin = await c.post("/admin/conversations/ann/handoff/release?token=s3cret")
        assert admin.status_code == 200


def test_unknown_jwt_method_is_a_config_error() -> None:
    from parley.server.config import ServerConfigError

    with pytest.raises(ServerConfigError, match="jwt-method"):
        ServerConfig(jwt_secret="x", jwt_method="none")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_an_open_api_on_loopback_is_warned_about(host: str) -> None:
    warning = open_api_warning(ServerConfig(enable_api=True), host)
    assert warning is not None and "any user or process of this machine" in warning


def test_an_open_api_on_the_network_is_warned_about_louder() -> None:
    warning = open_api_warning(ServerConfig(enable_api=True), "0.0.0.0")
    assert warning is not None and "anyone who can reach this port" in warning


def test_no_warning_with_auth_or_without_the_api() -> None:
    assert open_api_warning(ServerConfig(enable_api=True, auth_token="t"), "0.0.0.0") is None
    assert open_api_warning(ServerConfig(enable_api=False), "127.0.0.1") is None
