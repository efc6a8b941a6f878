from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.server.fake_agent import EchoAgent

ServerFactory = Callable[..., ParleyServer]


@pytest.fixture
def agent() -> EchoAgent:
    return EchoAgent()


@pytest.fixture
def make_server(agent: EchoAgent) -> ServerFactory:
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
