"""Local login, session cookies, CSRF, idle/absolute expiry, lockout, TOTP and logout."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
from sqlalchemy import update

from parley.access.service import Access
from parley.server import ParleyServer
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_sessions
from tests.access.conftest import PASSWORD, age_sessions, login
from tests.server.conftest import client_for


async def test_login_sets_an_httponly_samesite_session_cookie(server: ParleyServer) -> None:
    async with client_for(server) as client:
        response = await client.post(
            "/auth/login", json={"username": "annotator", "password": PASSWORD}
        )
    assert response.status_code == 200
    assert response.json()["role"] == "annotator"
    assert "conversations:tag" in response.json()["permissions"]
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("parley_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    csrf = next(c for c in cookies if c.startswith("parley_csrf="))
    assert "HttpOnly" not in csrf


async def test_cookies_are_secure_over_https(server: ParleyServer) -> None:
    import httpx

    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.post(
            "/auth/login", json={"username": "admin", "password": PASSWORD}
        )
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


async def test_wrong_password_and_unknown_user_get_the_same_401(server: ParleyServer) -> None:
    async with client_for(server) as client:
        wrong = await client.post("/auth/login", json={"username": "admin", "password": "nope"})
        unknown = await client.post("/auth/login", json={"username": "ghost", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    assert "set-cookie" not in wrong.headers


async def test_the_session_reaches_what_the_role_allows(server: ParleyServer) -> None:
    analyst = await login(server, "analyst")
    async with analyst:
        assert (await analyst.client.get("/auth/me")).json()["role"] == "analyst"
        assert (await analyst.client.get("/conversations/c1/tracker")).status_code == 200
        assert (await analyst.client.get("/admin/users")).status_code == 403


async def test_a_state_change_without_the_csrf_token_is_refused(server: ParleyServer) -> None:
    admin = await login(server, "admin")
    async with admin as client:
        body = {"username": "new-user", "role": "viewer", "password": PASSWORD}
        assert (await client.post("/admin/users", json=body)).status_code == 403
        forged = {"X-CSRF-Token": "forged"}
        assert (await client.post("/admin/users", json=body, headers=forged)).status_code == 403
        ok = {"X-CSRF-Token": admin.csrf}
        assert (await client.post("/admin/users", json=body, headers=ok)).status_code == 201


async def test_an_idle_session_expires(server: ParleyServer, access: Access) -> None:
    viewer = await login(server, "viewer")
    async with viewer as client:
        assert (await client.get("/auth/me")).status_code == 200
        await age_sessions(access, "viewer", access.settings.session.idle_minutes * 60 + 1)
        assert (await client.get("/auth/me")).status_code == 401


async def test_a_session_ends_at_its_absolute_lifetime_even_when_busy(
    server: ParleyServer, access: Access
) -> None:
    viewer = await login(server, "viewer")
    async with viewer as client:
        async with writer(access.engine).begin() as connection:
            await connection.execute(
                update(access_sessions).values(expires_at=time.time() - 1, last_seen=time.time())
            )
        assert (await client.get("/auth/me")).status_code == 401


async def test_a_forged_session_cookie_is_refused(server: ParleyServer) -> None:
    viewer = await login(server, "viewer")
    async with viewer as client:
        cookie = client.cookies["parley_session"]
        session_id, _, mac = cookie.partition(".")
        client.cookies.set("parley_session", f"{session_id[:-2]}xx.{mac}")
        assert (await client.get("/auth/me")).status_code == 401


async def test_logout_ends_this_session_and_logout_all_ends_every_one(
    server: ParleyServer,
) -> None:
    first, second, third = [await login(server, "tester") for _ in range(3)]
    response = await first.client.post("/auth/logout", headers={"X-CSRF-Token": first.csrf})
    assert response.status_code == 200
    assert (await first.client.get("/auth/me")).status_code == 401
    assert (await second.client.get("/auth/me")).status_code == 200
    response = await second.client.post("/auth/logout-all", headers={"X-CSRF-Token": second.csrf})
    assert response.json() == {"ended": 2}
    assert (await third.client.get("/auth/me")).status_code == 401
    for session in (first, second, third):
        await session.client.aclose()


async def test_repeated_failures_lock_the_account(server: ParleyServer, access: Access) -> None:
    async with client_for(server) as client:
        for _ in range(access.settings.lockout.max_failures):
            bad = await client.post("/auth/login", json={"username": "tester", "password": "bad"})
            assert bad.status_code == 401
        right = await client.post("/auth/login", json={"username": "tester", "password": PASSWORD})
        assert right.status_code == 401
        assert "locked" in right.json()["message"]
    await access.set_disabled("test", "tester", False)  # an admin unlocks it
    await (await login(server, "tester")).client.aclose()


async def test_totp_is_required_once_enabled(server: ParleyServer, access: Access) -> None:
    secret = pyotp.random_base32()
    await access.set_totp("test", "admin", secret)
    async with client_for(server) as client:
        plain = {"username": "admin", "password": PASSWORD}
        assert (await client.post("/auth/login", json=plain)).status_code == 401
        wrong = await client.post("/auth/login", json={**plain, "totp": "000000"})
        assert wrong.status_code == 401
        code = pyotp.TOTP(secret).now()
        assert (await client.post("/auth/login", json={**plain, "totp": code})).status_code == 200


async def test_disabling_a_user_ends_their_sessions(server: ParleyServer, access: Access) -> None:
    annotator = await login(server, "annotator")
    async with annotator as client:
        await access.set_disabled("test", "annotator", True)
        assert (await client.get("/auth/me")).status_code == 401


async def test_sessions_survive_a_restart_of_the_server(
    server: ParleyServer, access: Access, tmp_path: Path
) -> None:
    """The signing key lives in the store, so every worker and the next process accept it."""
    from tests.access.conftest import open_access

    viewer = await login(server, "viewer")
    other = await open_access(tmp_path)
    try:
        cookie = viewer.client.cookies["parley_session"]
        principal = await other.session_principal(cookie)
        assert principal is not None and principal.name == "viewer"
    finally:
        await other.close()
        await viewer.client.aclose()
