"""`require(permission)` guards a route of any FastAPI app (as the studio will use it)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI

from parley.access.dependencies import require
from parley.access.errors import AccessConfigError
from parley.access.principal import Principal
from parley.access.service import Access
from parley.server.auth import Gatekeeper
from parley.server.config import ServerConfig
from parley.server.errors import install_error_handlers
from tests.access.conftest import PASSWORD


def _studio(access: Access) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.gatekeeper = Gatekeeper(ServerConfig(), access)

    @app.get("/studio/conversations")
    async def conversations(caller: Principal = Depends(require("conversations:read"))) -> dict:
        return {"caller": caller.name, "role": caller.role}

    return app


@pytest.mark.parametrize(("user", "status"), [("analyst", 200), ("viewer", 403), (None, 401)])
async def test_require_admits_exactly_the_roles_with_the_permission(
    access: Access, user: str | None, status: int
) -> None:
    cookies = {}
    if user is not None:
        cookies["parley_session"] = (await access.login(user, PASSWORD)).cookie
    transport = httpx.ASGITransport(app=_studio(access))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        response = await client.get("/studio/conversations")
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"caller": user, "role": user}


def test_require_refuses_a_permission_that_does_not_exist() -> None:
    with pytest.raises(AccessConfigError, match="conversations:reed"):
        require("conversations:reed")
