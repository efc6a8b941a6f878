"""The audit log: a row for each audited action, a hash chain that shows tampering, no secrets."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from parley.access.audit import AuditFilter, scrub
from parley.access.service import Access
from parley.cli.main import app
from parley.security.redaction import install_redaction
from parley.server import ParleyServer
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import audit_log
from tests.access.conftest import PASSWORD, login
from tests.server.conftest import client_for


async def _actions(access: Access) -> list[tuple[str, str, str | None, str]]:
    rows = await access.audit.query(AuditFilter(limit=1000))
    return [(r.actor, r.action, r.target, r.result) for r in reversed(rows)]


async def test_each_audited_action_leaves_a_row(server: ParleyServer, access: Access) -> None:
    async with client_for(server) as client:
        await client.post("/auth/login", json={"username": "tester", "password": "wrong"})
    admin = await login(server, "admin")
    viewer = await login(server, "viewer")
    async with admin as client:
        csrf = {"X-CSRF-Token": admin.csrf}
        await client.post("/admin/users", json={"username": "bo", "role": "viewer"}, headers=csrf)
        await client.patch("/admin/users/bo", json={"role": "annotator"}, headers=csrf)
        token = (await client.post("/auth/tokens", json={"name": "ci"}, headers=csrf)).json()
        await client.delete(f"/auth/tokens/{token['id']}", headers=csrf)
        events = [{"event": "slot", "name": "username", "value": "x", "timestamp": 1.0}]
        await client.put("/conversations/c9/tracker", json=events, headers=csrf)
        await client.post("/admin/conversations/c9/handoff/release", headers=csrf)
        await client.delete("/admin/users/viewer/sessions", headers=csrf)
        await client.post("/auth/logout", headers=csrf)
    async with viewer as client:
        assert (await client.get("/admin/users")).status_code == 401  # logged out by the admin
    await viewer.client.aclose()
    assert await _actions(access) == [
        ("tester", "login", None, "failed"),
        ("admin", "login", None, "ok"),
        ("viewer", "login", None, "ok"),
        ("admin", "user_create", "bo", "ok"),
        ("admin", "role_change", "bo", "ok"),
        ("admin", "token_create", token["id"], "ok"),
        ("admin", "token_revoke", token["id"], "ok"),
        ("admin", "tracker_replace", "c9", "ok"),
        ("admin", "handoff_release", "c9", "ok"),
        ("admin", "logout_all", "viewer", "ok"),
        ("admin", "logout", None, "ok"),
    ]


async def test_a_refused_request_is_audited(server: ParleyServer, access: Access) -> None:
    viewer = await login(server, "viewer")
    async with viewer as client:
        assert (await client.get("/admin/audit")).status_code == 403
    assert ("viewer", "access_denied", "GET /admin/audit", "denied") in await _actions(access)


async def test_the_audit_route_filters(server: ParleyServer, access: Access) -> None:
    await login(server, "viewer")
    admin = await login(server, "admin")
    async with admin as client:
        rows = (await client.get("/admin/audit", params={"actor": "viewer"})).json()
    assert [(r["actor"], r["action"]) for r in rows] == [("viewer", "login")]
    assert rows[0]["ip"] and len(rows[0]["hash"]) == 64


async def test_editing_a_row_breaks_the_chain(access: Access, tmp_path: Path) -> None:
    await access.create_user("cli:root", "eve", "viewer", None)
    await access.set_role("cli:root", "eve", "admin")
    await access.set_role("cli:root", "eve", "viewer")
    assert (await access.audit.verify())[1] == []
    runner = CliRunner()
    verify = ["audit", "verify", "-p", str(tmp_path)]
    intact = await asyncio.to_thread(runner.invoke, app, verify)  # the CLI runs its own loop
    assert intact.exit_code == 0, intact.output
    async with writer(access.engine).begin() as connection:  # hide the promotion
        await connection.execute(
            text("UPDATE parley_audit_log SET details = '{}' WHERE action = 'role_change'")
        )
    checked, breaks = await access.audit.verify()
    assert checked == 3 and {b.row_id for b in breaks} == {2, 3}
    tampered = await asyncio.to_thread(runner.invoke, app, verify)
    assert tampered.exit_code == 1
    assert "tampered" in tampered.output


async def test_deleting_a_row_in_the_middle_breaks_the_chain(access: Access) -> None:
    for name in ("a1", "a2", "a3"):
        await access.create_user("cli:root", name, "viewer", None)
    async with writer(access.engine).begin() as connection:
        await connection.execute(audit_log.delete().where(audit_log.c.target == "a2"))
    _, breaks = await access.audit.verify()
    assert [b.reason for b in breaks] == ["does not follow the row before it"]


async def test_no_password_or_token_reaches_the_audit_log_or_the_logs(
    server: ParleyServer, access: Access, caplog: pytest.LogCaptureFixture
) -> None:
    install_redaction()
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, "wrong-password-123", "another password 1"]
    async with client_for(server) as client:
        await client.post("/auth/login", json={"username": "admin", "password": secrets[1]})
    admin = await login(server, "admin")
    async with admin as client:
        csrf = {"X-CSRF-Token": admin.csrf}
        body = {"username": "carol", "role": "viewer", "password": secrets[2]}
        await client.post("/admin/users", json=body, headers=csrf)
        created = await client.post("/auth/tokens", json={"name": "ci"}, headers=csrf)
        secrets.append(created.json()["token"])
        assert await client.get("/status", headers={"Authorization": f"Bearer {secrets[-1]}"})
    async with access.engine.connect() as connection:
        stored = " ".join(repr(tuple(row)) for row in await connection.execute(select(audit_log)))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in stored
        assert secret not in logged
    assert scrub({"user": "x", "password": "p", "nested": {"api_token": "t"}}) == {
        "user": "x",
        "nested": {},
    }
