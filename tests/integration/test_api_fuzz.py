"""Schemathesis over /openapi.json: generated requests to every route never get a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from parley.server import AgentHolder, ServerConfig, create_app
from tests.server.helpdesk import helpdesk_agent

pytestmark = pytest.mark.integration
EXAMPLES_PER_ROUTE = 8  # bounded: the whole run takes seconds


def test_no_route_answers_500() -> None:
    credentials = {"rest": None, "socketio": None}
    server = create_app(
        AgentHolder(helpdesk_agent(), None), ServerConfig(enable_api=True, credentials=credentials)
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", server.fastapi)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()
        tested.append(operation.label)
    assert "POST /webhooks/rest/webhook" in tested and "PUT /model" in tested
    assert len(tested) >= 18
