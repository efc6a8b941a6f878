"""Fuzzing a real server, its conversations in SQLite and in PostgreSQL: schemathesis over
/openapi.json (every route, then chained through the schema's links), Hypothesis posting random
and adversarial events, texts and conversation ids, and a socket.io client sending random
frames. No request may get a 500, nothing may log an ERROR, and every conversation touched must
still load and answer afterwards.

Each store is fuzzed in a fresh interpreter: CPython 3.11.7 can fail compile() with "AST
constructor recursion depth mismatch" after deep recursion elsewhere in a long test session
(gh-106905). Bounded: a few hundred examples, well under a minute per store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.dialogue.events import EVENT_TYPES
from parley.ids import sender_id_problem
from tests.integration.fuzz_server import FuzzServer, fuzz_server

pytestmark = pytest.mark.integration
EXAMPLES_PER_ROUTE = 6
EVENT_EXAMPLES = 100
MESSAGE_EXAMPLES = 50
SOCKETIO_EXAMPLES = 6
FUZZ = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, whichever thread logs it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:300]}")


# -- strategies -------------------------------------------------------------------------------

# Any text: control characters, NUL and lone surrogates included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    ANY_TEXT,
    st.sampled_from(["greet", "utter_greet", "action_listen", "username", "confirm_reset"]),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)
PLAUSIBLE = st.sampled_from(
    [
        "greet",
        "utter_greet",
        "action_listen",
        "action_nope",
        "username",
        "confirm_reset",
        "password_reset_form",
        "2030-01-01T10:00:00+00:00",
        "tomorrow",
        1e999,
        1700000000.0,
        {"intent": {"name": "greet", "confidence": 1.0}, "entities": []},
        {"intent": ["greet"]},
        {"name": "x"},
        [{"entity": "username", "value": "ada"}],
        [1, 2],
        {"event_id": "x" * 80},
    ]
)
FIELDS = st.sampled_from(
    [
        "name",
        "text",
        "parse_data",
        "value",
        "timestamp",
        "metadata",
        "intent",
        "date_time",
        "entities",
        "policy",
        "confidence",
        "data",
        "kill_on_user_msg",
        "is_interrupted",
        "input_channel",
    ]
)
EVENT = st.builds(
    lambda kind, fields: {"event": kind, **fields},
    st.sampled_from([*EVENT_TYPES, "form", "form_validation", "bogus", ""]) | JSON,
    st.dictionaries(FIELDS, PLAUSIBLE | JSON, max_size=5),
)
SENDER = (
    st.sampled_from(["fuzz-a", "fuzz-b", "Ünï 🙂", "x" * 255]) | ANY_TEXT | st.text(max_size=300)
)
MESSAGE_TEXT = (
    ANY_TEXT | st.sampled_from(["hi", "/greet", "reset my password", "x" * 2001]) | st.text()
)


def _path_id(sender: str) -> str:
    return quote(sender.encode("utf-8", "surrogatepass"), safe="")


def _json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # "\ud800", Infinity: as attackers send


def _still_works(client: httpx.Client, sender: str) -> None:
    """The conversation loads and answers a message."""
    tracker = client.get(f"/conversations/{_path_id(sender)}/tracker")
    assert tracker.status_code == 200, (sender, tracker.text)
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "hi"})
    assert reply.status_code == 200 and isinstance(reply.json(), list), (sender, reply.text)


def _event_count(client: httpx.Client, sender: str) -> int:
    reply = client.get(
        f"/conversations/{_path_id(sender)}/tracker", params={"include_events": "ALL"}
    )
    assert reply.status_code == 200, reply.text
    return len(reply.json()["events"])


# -- fuzzers ----------------------------------------------------------------------------------


def fuzz_every_route(server: FuzzServer, touched: set[str]) -> list[str]:
    """Schemathesis over every operation, one at a time; returns the operations tested."""
    import schemathesis
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(FUZZ, max_examples=EXAMPLES_PER_ROUTE)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.url, checks=[not_a_server_error])
            conversation = (case.path_parameters or {}).get("conversation_id")
            if isinstance(conversation, str):
                touched.add(conversation)

        check()
        tested.append(operation.label)
    return tested


def fuzz_statefully(server: FuzzServer) -> int:
    """Schemathesis chaining calls through the links of the schema (append events, then read,
    message, predict, execute on the same conversation); returns the number of links."""
    import schemathesis

    spec = httpx.get(f"{server.url}/openapi.json").json()
    links = sum(
        len(response.get("links", {}))
        for path in spec["paths"].values()
        for operation in path.values()
        for response in operation.get("responses", {}).values()
    )
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server.url}

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

    Machine.run(settings=settings(FUZZ, max_examples=20, stateful_step_count=6))
    return links


def fuzz_events(server: FuzzServer, touched: set[str]) -> int:
    """Random and adversarial events to POST /conversations/{id}/tracker/events: never a 500;
    a refused request stores nothing; the conversation answers afterwards."""
    client = httpx.Client(base_url=server.url, timeout=30)
    examples = 0

    @given(sender=SENDER, events=EVENT | st.lists(EVENT, min_size=1, max_size=4))
    @settings(FUZZ, max_examples=EVENT_EXAMPLES)
    def check(sender: str, events: Any) -> None:
        nonlocal examples
        examples += 1
        usable = sender_id_problem(sender) is None
        before = _event_count(client, sender) if usable else 0
        reply = client.post(
            f"/conversations/{_path_id(sender)}/tracker/events",
            content=_json(events),
            headers={"content-type": "application/json"},
        )
        assert reply.status_code < 500, reply.text
        if not usable:
            assert reply.status_code >= 400
            return
        touched.add(sender)
        if reply.status_code >= 400:
            assert _event_count(client, sender) == before  # all or nothing
        _still_works(client, sender)

    with client:
        check()
    return examples


def fuzz_messages(server: FuzzServer, touched: set[str]) -> int:
    """Random texts and sender ids to the REST webhook and /model/parse: never a 500."""
    client = httpx.Client(base_url=server.url, timeout=30)
    examples = 0

    @given(sender=SENDER | JSON, text=MESSAGE_TEXT | JSON, metadata=st.none() | JSON)
    @settings(FUZZ, max_examples=MESSAGE_EXAMPLES)
    def check(sender: Any, text: Any, metadata: Any) -> None:
        nonlocal examples
        examples += 1
        body = {"sender": sender, "message": text, "metadata": metadata}
        reply = client.post(
            "/webhooks/rest/webhook",
            content=_json(body),
            headers={"content-type": "application/json"},
        )
        assert reply.status_code < 500, reply.text
        parse = client.post(
            "/model/parse",
            content=_json({"text": text}),
            headers={"content-type": "application/json"},
        )
        assert parse.status_code < 500, parse.text
        if isinstance(sender, str) and sender_id_problem(sender) is None:
            touched.add(sender)
            _still_works(client, sender)

    with client:
        check()
    return examples


SOCKETIO_FRAME = st.tuples(
    st.sampled_from(["session_request", "user_uttered", "message", "connect"]) | ANY_TEXT,
    JSON
    | st.fixed_dictionaries(
        {"message": MESSAGE_TEXT | JSON, "session_id": SENDER | JSON},
        optional={"metadata": JSON},
    ),
)


def fuzz_socketio(server: FuzzServer, touched: set[str]) -> int:
    """A python-socketio client emitting random events and payloads; the channel still
    answers a well-formed conversation on the same connection afterwards."""
    import socketio

    examples = 0

    async def session(frames: list[tuple[str, Any]], session_id: str) -> None:
        client = socketio.AsyncClient()
        answered = asyncio.Event()
        client.on("bot_uttered", lambda data: answered.set())
        await client.connect(server.url, transports=["websocket"])
        try:
            for name, payload in frames:
                # the client may fail to encode a payload itself: then it is not sent
                with contextlib.suppress(TypeError, ValueError, socketio.exceptions.SocketIOError):
                    await client.emit(name, payload)
            await client.emit("session_request", {"session_id": session_id})
            await client.emit("user_uttered", {"message": "hi", "session_id": session_id})
            await asyncio.wait_for(answered.wait(), 15)
        finally:
            await client.disconnect()

    @given(frames=st.lists(SOCKETIO_FRAME, min_size=5, max_size=25))
    @settings(FUZZ, max_examples=SOCKETIO_EXAMPLES)
    def check(frames: list[tuple[str, Any]]) -> None:
        nonlocal examples
        examples += 1
        session_id = f"sio-fuzz-{examples}"
        touched.add(session_id)
        asyncio.run(session(frames, session_id))

    check()
    return examples


def run_fuzz(kind: str) -> dict[str, Any]:
    """Every fuzzer against one server whose conversations are in `kind` ("sqlite" or
    "postgresql"); the summary the test checks."""
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    touched: set[str] = set()
    with tempfile.TemporaryDirectory() as folder, fuzz_server(kind, Path(folder)) as server:
        tested = fuzz_every_route(server, touched)
        links = fuzz_statefully(server)
        events = fuzz_events(server, touched)
        messages = fuzz_messages(server, touched)
        sio = fuzz_socketio(server, touched)
        usable = sorted(s for s in touched if sender_id_problem(s) is None)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for sender in usable[:150]:
                _still_works(client, sender)
    stored = server.senders
    return {
        "operations": tested,
        "links": links,
        "event_examples": events,
        "message_examples": messages,
        "socketio_examples": sio,
        "conversations_checked": min(len(usable), 150),
        "stored_conversations": len(stored),
        "bad_stored_ids": [s[:80] for s in stored if sender_id_problem(s) is not None],
        "errors": errors.records[:20],
    }


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_fuzzing_finds_no_500_and_no_broken_conversation(kind: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from tests.integration.test_api_fuzz import run_fuzz;"
            f" print(json.dumps(run_fuzz({kind!r})))",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert "POST /webhooks/rest/webhook" in summary["operations"]
    assert "PUT /model" in summary["operations"]
    assert len(summary["operations"]) >= 18
    assert summary["event_examples"] >= EVENT_EXAMPLES // 2
    assert summary["conversations_checked"] >= 20
    assert summary["bad_stored_ids"] == []
    assert summary["errors"] == []
