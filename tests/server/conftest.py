from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from parley.agent import Agent
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.server.helpdesk import helpdesk_agent

ServerFactory = Callable[..., ParleyServer]


@pytest.fixture
def agent() -> Agent:
    return helpdesk_agent()


@pytest.fixture
def make_server(agent: Agent) -> ServerFactory:
    def make(config: ServerConfig | None = None, **options: Any) -> ParleyServer:
        config = config or ServerConfig(enable_api=True, **options)
        return create_app(AgentHolder(agent, None), config)

    return make


def client_for(server: ParleyServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server), base_url="http://testserver"
    )


@pytest.fixture
async def client(make_server: ServerFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_server()) as c:
        yield c
