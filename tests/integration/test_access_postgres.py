"""The access store on PostgreSQL: schema, logins and a linear audit chain under concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.access.audit import AuditFilter
from parley.access.service import Access
from parley.access.settings import AccessSettings
from tests.stores.conftest import POSTGRES, drop_schema, unique_name

pytestmark = pytest.mark.integration


async def test_users_sessions_tokens_and_audit_on_postgres(tmp_path: Path) -> None:
    schema = unique_name("access")
    settings = AccessSettings.model_validate({"store": {**POSTGRES, "schema": schema}})
    try:
        access = await Access.open(settings, tmp_path)
        try:
            await access.create_user("cli:root", "ana", "analyst", "a long password")
            result = await access.login("ana", "a long password", ip="127.0.0.1")
            principal = await access.session_principal(result.cookie)
            assert principal is not None and principal.role == "analyst"
            text, _ = await access.create_token("cli:root", "ana", "ci", ["analytics:read"], None)
            token = await access.token_principal(text)
            assert token is not None and token.permissions == {"analytics:read"}
            # Many writers at once (as replicas would): the chain must stay one line.
            await asyncio.gather(
                *(access.audit.record("load", "probe", target=str(i)) for i in range(20))
            )
            checked, breaks = await access.audit.verify()
            assert (checked, breaks) == (23, [])  # user, login, token + 20
            rows = await access.audit.query(AuditFilter(action="probe", limit=100))
            assert sorted(int(r.target or 0) for r in rows) == list(range(20))
        finally:
            await access.close()
        reopened = await Access.open(settings, tmp_path)  # the same key: sessions survive
        try:
            assert await reopened.session_principal(result.cookie) is not None
        finally:
            await reopened.close()
    finally:
        await drop_schema(schema)
