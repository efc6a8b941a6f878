from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from parley.agent import Agent
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from parley.server.metrics import MetricsEventBroker, ServerMetrics
from tests.server.helpdesk import helpdesk_agent

ServerFactory = Callable[..., ParleyServer]


@pytest.fixture
def metrics() -> ServerMetrics:
    return ServerMetrics()


@pytest.fixture
def agent(metrics: ServerMetrics) -> Agent:
    """The trained help-desk Agent, its events observed by the server's metrics (as in
    `parley run`)."""
    return helpdesk_agent(event_broker=MetricsEventBroker(metrics))


@pytest.fixture
def make_server(agent: Agent, metrics: ServerMetrics) -> ServerFactory:
    def make(config: ServerConfig | None = None, **options: Any) -> ParleyServer:
        config = config or ServerConfig(enable_api=True, **options)
        return create_app(AgentHolder(agent, None), config, metrics)

    return make


def client_for(server: ParleyServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server), base_url="http://testserver"
    )


@pytest.fixture
async def client(make_server: ServerFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_server()) as c:
        yield c
