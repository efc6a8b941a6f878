"""Schemathesis over /openapi.json: generated requests to every route never get a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from parley.server import AgentHolder, ServerConfig, create_app
from tests.server.fake_agent import EchoAgent

pytestmark = pytest.mark.integration

_SERVER = create_app(
    AgentHolder(EchoAgent(), None),
    ServerConfig(
        enable_api=True, credentials={"rest": None, "callback": {"url": "http://127.0.0.1:9/x"}}
    ),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _SERVER.fastapi)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_route_answers_500(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
