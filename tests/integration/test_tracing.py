"""OpenTelemetry tracing of turns: the spans, their nesting, the trace id on the turn's events,
and a real `parley run actions` process continuing the trace of the action call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from parley.action_runners import create_action_runner
from parley.agent import Agent
from parley.observability.operations import Operations
from parley.observability.tracing import TRACE_ID_KEY, TracingConfig, build_tracing
from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import ServerConfig
from tests.action_runners.support import BANKBOT
from tests.integration.actions.processes import parley_actions_server
from tests.integration.conftest import TrainedModel
from tests.observability.collector import Collector
from tests.observability.projects import bankbot_copy
from tests.server.live import running

pytestmark = pytest.mark.integration

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with bankbot_copy(tmp_path_factory.mktemp("traced"), "traced_bank_actions") as root:
        yield root


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


async def test_turn_spans_nest_and_the_action_server_continues_the_trace(
    project: Path, trained_model: TrainedModel
) -> None:
    exporter = InMemorySpanExporter()
    tracing = build_tracing(TracingConfig(enabled=True), exporter=exporter)
    with (
        Collector() as collector,
        parley_actions_server(
            project,
            "traced_bank_actions",
            env={
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.url,
                "OTEL_BSP_SCHEDULE_DELAY": "50",
            },
        ) as actions_url,
    ):
        runner = create_action_runner({"action_endpoint": {"url": f"{actions_url}/webhook"}})
        Operations(tracing=tracing).trace_action_calls(runner)
        agent = Agent.load(trained_model(BANKBOT), action_runner=runner, tracing=tracing)
        try:
            replies = await agent.handle_message(
                "ada", "what is my balance in savings", input_channel="rest"
            )
            assert replies and "balance" in replies[0]["text"]
            action_server_span = collector.wait_for(
                "parley.action_server.run", parley_action="action_check_balance"
            )
        finally:
            await runner.close()

    spans = list(exporter.get_finished_spans())
    (turn,) = by_name(spans, "parley.turn")
    assert turn.parent is None
    assert turn.attributes is not None and turn.attributes["parley.channel"] == "rest"
    trace_id = turn.context.trace_id
    assert all(s.context.trace_id == trace_id for s in spans)
    for child in ("parley.nlu.parse", "parley.lock.wait"):
        (span,) = by_name(spans, child)
        assert parent_of(span, spans) is turn
    # every action called on the action server is a span: the turn's and the slot mappings'
    called = {s.attributes["parley.action"] for s in collector.spans}
    assert called == {"action_validate_slot_mappings", "action_check_balance"}
    for name in called:
        (ours,) = [
            s for s in by_name(spans, "parley.action") if s.attributes["parley.action"] == name
        ]
        theirs = collector.wait_for("parley.action_server.run", parley_action=name)
        assert theirs.parent_span_id == format(ours.context.span_id, "016x")
    for name in ("parley.tracker.load", "parley.tracker.save"):
        assert by_name(spans, name), name
    predictions = by_name(spans, "parley.policy.predict")
    assert len(predictions) >= 2  # the custom action, then action_listen
    policies = by_name(spans, "parley.policy")
    assert {p.attributes["parley.policy"] for p in policies if p.attributes} >= {"RulePolicy"}
    assert all(parent_of(p, spans).name == "parley.policy.predict" for p in policies)
    (action,) = [
        s
        for s in by_name(spans, "parley.action")
        if s.attributes and s.attributes["parley.action"] == "action_check_balance"
    ]
    # the action server's span is a child of the action's span, in the same trace
    assert action_server_span.service == "parley-actions"
    assert action_server_span.trace_id == format(trace_id, "032x")
    assert action_server_span.parent_span_id == format(action.context.span_id, "016x")
    assert action_server_span.attributes["parley.action"] == "action_check_balance"
    # message text stays out of span attributes unless include_text is set
    assert not any(
        "savings" in str(value) for s in spans for value in (s.attributes or {}).values()
    )
    # each event of the turn names its trace
    tracker = await agent.get_tracker("ada")
    assert {e.metadata.get(TRACE_ID_KEY) for e in tracker.events} == {format(trace_id, "032x")}


async def test_served_turn_continues_the_callers_trace_from_endpoints_yml(
    project: Path, trained_model: TrainedModel, tmp_path: Path
) -> None:
    model = trained_model(BANKBOT)
    with Collector() as collector:
        (project / "endpoints.yml").write_text(
            "action_endpoint:\n  actions_module: traced_bank_actions\n"
            f"tracing:\n  type: otlp\n  endpoint: {collector.url}\n  service_name: bank\n"
        )
        server = await build_server(
            ProjectFiles(project, model=model), ServerConfig(enable_api=True)
        )
        traceparent = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
        async with running(server) as port, httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                json={"sender": "bea", "message": '/check_balance{"account": "savings"}'},
                headers={"traceparent": traceparent},
            )
            assert answer.status_code == 200
            assert answer.json()[0]["text"] == "Your savings balance is 120.50 EUR (rest)."
            state = await client.get(f"http://127.0.0.1:{port}/conversations/bea/tracker")
        # shutting the server down flushed the spans
        turn = collector.wait_for("parley.turn")
        http = collector.wait_for("POST /webhooks/rest/webhook")
    assert http.trace_id == turn.trace_id == CALLER_TRACE
    assert http.parent_span_id == "00f067aa0ba902b7"
    assert turn.parent_span_id == http.span_id
    assert turn.service == "bank"
    trace_ids = {e["metadata"].get(TRACE_ID_KEY) for e in state.json()["events"]}
    assert trace_ids == {CALLER_TRACE}
