"""API tokens: shown once, stored hashed, scoped, expiring, revocable, bound to the owner's role."""

from __future__ import annotations

import time

from sqlalchemy import select, update

from parley.access.service import Access
from parley.server import ParleyServer
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_tokens
from tests.access.conftest import login
from tests.server.conftest import client_for


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_is_shown_once_and_only_its_hash_is_stored(
    server: ParleyServer, access: Access
) -> None:
    analyst = await login(server, "analyst")
    async with analyst as client:
        created = await client.post(
            "/auth/tokens",
            json={"name": "ci", "scopes": ["conversations:read"]},
            headers={"X-CSRF-Token": analyst.csrf},
        )
        assert created.status_code == 201
        token = created.json()["token"]
        listed = (await client.get("/auth/tokens")).json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    async with access.engine.connect() as connection:
        stored = (await connection.execute(select(access_tokens))).one()
    secret = token.split("_", 2)[2]
    assert secret not in repr(tuple(stored))


async def test_a_token_reaches_only_its_scopes(server: ParleyServer, access: Access) -> None:
    token, _ = await access.create_token("test", "analyst", "ci", ["conversations:read"], None)
    async with client_for(server) as client:
        tracker = await client.get("/conversations/c1/tracker", headers=_bearer(token))
        assert tracker.status_code == 200
        # analytics:read is in the analyst's role but not in the token's scopes
        assert (await client.get("/status", headers=_bearer(token))).status_code == 403


async def test_a_token_cannot_exceed_its_owners_role(server: ParleyServer, access: Access) -> None:
    analyst = await login(server, "analyst")
    async with analyst as client:
        response = await client.post(
            "/auth/tokens",
            json={"name": "sneaky", "scopes": ["users:manage"]},
            headers={"X-CSRF-Token": analyst.csrf},
        )
    assert response.status_code == 400
    assert "users:manage" in response.json()["message"]


async def test_demoting_the_owner_demotes_the_token(server: ParleyServer, access: Access) -> None:
    token, _ = await access.create_token("test", "admin", "ops", [], None)
    async with client_for(server) as client:
        assert (await client.get("/admin/users", headers=_bearer(token))).status_code == 200
        await access.set_role("test", "admin", "viewer")
        assert (await client.get("/admin/users", headers=_bearer(token))).status_code == 403


async def test_expired_revoked_and_tampered_tokens_are_refused(
    server: ParleyServer, access: Access
) -> None:
    expiring, record = await access.create_token("test", "viewer", "short", [], time.time() + 3600)
    revoked, revoked_record = await access.create_token("test", "viewer", "old", [], None)
    async with client_for(server) as client:
        assert (await client.get("/status", headers=_bearer(expiring))).status_code == 200
        async with writer(access.engine).begin() as connection:
            await connection.execute(
                update(access_tokens)
                .where(access_tokens.c.token_id == record.token_id)
                .values(expires_at=time.time() - 1)
            )
        assert (await client.get("/status", headers=_bearer(expiring))).status_code == 401
        await access.revoke_token("test", revoked_record.token_id)
        assert (await client.get("/status", headers=_bearer(revoked))).status_code == 401
        tampered = revoked[:-3] + ("aaa" if not revoked.endswith("aaa") else "bbb")
        assert (await client.get("/status", headers=_bearer(tampered))).status_code == 401


async def test_a_token_needs_no_csrf_token(server: ParleyServer, access: Access) -> None:
    """A bearer header is never sent by a browser on its own, so no CSRF check applies."""
    token, _ = await access.create_token("test", "admin", "ops", [], None)
    async with client_for(server) as client:
        response = await client.post(
            "/admin/users",
            json={"username": "bot", "role": "viewer"},
            headers=_bearer(token),
        )
    assert response.status_code == 201
