"""HttpActionRunner against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from parley.action_runners import (
    ActionNotRegistered,
    ActionRejected,
    ActionServerError,
    ActionServerUnavailable,
    ActionTimeout,
    BadActionReply,
    CircuitOpen,
    HttpActionRunner,
    parse_action_endpoint,
)
from parley.sdk import ActionExecutor
from parley.sdk.server import create_app
from tests.action_runners.support import ServerThread, bank_request, listening_socket
from tests.ports import free_port

pytestmark = pytest.mark.integration


def runner(url: str, **settings: Any) -> HttpActionRunner:
    return HttpActionRunner(parse_action_endpoint({"url": url, **settings}))


async def test_runs_actions_on_an_action_server(bank_executor: ActionExecutor) -> None:
    with ServerThread(create_app(bank_executor)) as server:
        client = runner(server.url())
        try:
            reply = await client.run(
                "action_check_balance",
                bank_request("action_check_balance", slots={"account": "savings"}),
            )
        finally:
            await client.close()
    assert reply["events"] == [
        {"event": "slot", "timestamp": None, "name": "balance", "value": 120.5}
    ]
    assert reply["responses"][0]["text"] == "Your savings balance is 120.50 EUR (rest)."


async def test_rejection_and_unknown_action_are_reported_and_keep_the_circuit_closed(
    bank_executor: ActionExecutor,
) -> None:
    with ServerThread(create_app(bank_executor)) as server:
        client = runner(server.url(), circuit_breaker={"failure_threshold": 1})
        try:
            with pytest.raises(ActionRejected, match="no account selected"):
                await client.run("action_needs_account", bank_request("action_needs_account"))
            with pytest.raises(ActionNotRegistered, match="action_nope"):
                await client.run("action_nope", bank_request("action_nope"))
            assert client.breaker.state == "closed"
            with pytest.raises(ActionServerError, match=r"HTTP 500.*bank API is down"):
                await client.run("action_crash", bank_request("action_crash"))
            assert client.breaker.state == "open"
        finally:
            await client.close()


async def test_slow_action_times_out(bank_executor: ActionExecutor) -> None:
    with ServerThread(create_app(bank_executor)) as server:
        client = runner(server.url(), timeout=0.3)
        started = time.monotonic()
        try:
            with pytest.raises(ActionTimeout, match=r"within 0\.3s"):
                await client.run("action_slow", bank_request("action_slow", slots={"delay": 1}))
            assert time.monotonic() - started < 1.0
        finally:
            await client.close()


def _bad_app() -> Starlette:
    async def not_json(request: Request) -> Response:
        return Response(b"<html>oops</html>", media_type="application/json")

    async def wrong_shape(request: Request) -> Response:
        return JSONResponse({"events": [{"name": "no event key"}]})

    async def rejected_without_body(request: Request) -> Response:
        return Response(b"bad request", status_code=400)

    return Starlette(
        routes=[
            Route("/not-json", not_json, methods=["POST"]),
            Route("/wrong-shape", wrong_shape, methods=["POST"]),
            Route("/plain-400", rejected_without_body, methods=["POST"]),
        ]
    )


async def test_bad_replies_are_errors_naming_the_action(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "parley.action_runners")
    with ServerThread(_bad_app()) as server:
        for path, error, message in [
            ("/not-json", BadActionReply, "not JSON"),
            ("/wrong-shape", BadActionReply, "'event' name"),
            ("/plain-400", ActionServerError, "HTTP 400"),
        ]:
            client = runner(server.url(path))
            try:
                with pytest.raises(error, match=message) as caught:
                    await client.run("action_transfer", bank_request("action_transfer"))
            finally:
                await client.close()
            assert type(caught.value) is error
    assert caplog.text.count("action 'action_transfer'") == 3


async def test_dead_server_fails_fast_then_the_circuit_opens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = runner(
        f"http://127.0.0.1:{free_port()}/webhook",
        circuit_breaker={"failure_threshold": 2, "reset_timeout": 60},
    )
    try:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(ActionServerUnavailable, match="cannot connect"):
                await client.run("action_transfer", bank_request("action_transfer"))
            assert time.monotonic() - started < 1.0  # refused, retried twice, still fast
        request = bank_request("action_transfer")
        started = time.monotonic()
        with pytest.raises(CircuitOpen, match="failed 2 times in a row"):
            await client.run("action_transfer", request)
        assert time.monotonic() - started < 0.05
    finally:
        await client.close()
    assert "action 'action_transfer': cannot connect" in caplog.text


async def test_server_that_accepts_but_never_answers_opens_the_circuit() -> None:
    silent = listening_socket()  # the kernel completes the handshake; nobody reads
    port = silent.getsockname()[1]
    client = runner(
        f"http://127.0.0.1:{port}/webhook",
        timeout=0.2,
        circuit_breaker={"failure_threshold": 1, "reset_timeout": 60},
    )
    try:
        with pytest.raises(ActionTimeout):
            await client.run("action_transfer", bank_request("action_transfer"))
        request = bank_request("action_transfer")
        started = time.monotonic()
        with pytest.raises(CircuitOpen):
            await client.run("action_transfer", request)
        assert time.monotonic() - started < 0.05
    finally:
        await client.close()
        silent.close()


async def test_retry_after_refusal_reaches_a_server_that_just_came_up(
    bank_executor: ActionExecutor,
) -> None:
    port = free_port()
    client = runner(f"http://127.0.0.1:{port}/webhook", retries=3)
    try:
        call = asyncio.create_task(
            client.run("action_check_balance", bank_request("action_check_balance"))
        )
        await asyncio.sleep(0.1)  # the first attempts are refused
        with ServerThread(create_app(bank_executor), port=port):
            reply = await call
        assert reply["events"][0]["name"] == "balance"
    finally:
        await client.close()


async def test_cancelled_trial_call_does_not_leave_the_circuit_stuck(
    bank_executor: ActionExecutor,
) -> None:
    with ServerThread(create_app(bank_executor)) as server:
        client = runner(
            server.url(), circuit_breaker={"failure_threshold": 1, "reset_timeout": 0.1}
        )
        try:
            with pytest.raises(ActionServerError):
                await client.run("action_crash", bank_request("action_crash"))
            await asyncio.sleep(0.15)  # half-open: the next call is the trial
            slow = bank_request("action_slow", slots={"delay": 1})
            trial = asyncio.create_task(client.run("action_slow", slow))
            await asyncio.sleep(0.1)
            trial.cancel()
            with pytest.raises(asyncio.CancelledError):
                await trial
            reply = await client.run("action_check_balance", bank_request("action_check_balance"))
            assert reply["events"][0]["name"] == "balance"
            assert client.breaker.state == "closed"
        finally:
            await client.close()
