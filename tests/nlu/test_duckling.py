from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from parley.nlu.duckling import DucklingEntityExtractor
from parley.nlu.message import Message
from tests.ports import free_port


class _Duckling(BaseHTTPRequestHandler):
    """Answers like a Duckling server: POST /parse with form data -> JSON list of matches."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"quack!")

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        text = form["text"][0]
        start = text.index("42")
        body = [
            {"body": "42", "start": start, "end": start + 2, "dim": "number",
             "value": {"value": 42, "type": "value"}},
            {"body": "42", "start": start, "end": start + 2, "dim": "distance",
             "value": {"value": 42, "unit": "metre", "type": "value"}},
        ]  # fmt: skip
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def duckling_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Duckling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_duckling_server_is_used_when_it_answers(duckling_url: str) -> None:
    extractor = DucklingEntityExtractor(
        "DucklingEntityExtractor", {"url": duckling_url, "dimensions": ["number"]}
    )
    message = Message("give me 42 now")
    extractor.process(message)
    assert message.entities == [
        {"entity": "number", "start": 8, "end": 10, "text": "42", "value": 42,
         "confidence_entity": 1.0, "additional_info": {"value": 42, "type": "value"},
         "extractor": "DucklingEntityExtractor"}
    ]  # fmt: skip


def test_without_duckling_builtins_serve_and_warn_once(caplog: pytest.LogCaptureFixture) -> None:
    extractor = DucklingEntityExtractor(
        "DucklingEntityExtractor",
        {"url": f"http://127.0.0.1:{free_port()}", "dimensions": ["email", "number"]},
    )
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            message = Message("mail bob@example.com twice")
            extractor.process(message)
            assert [(e["entity"], e["value"]) for e in message.entities] == [
                ("email", "bob@example.com")
            ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "built-in" in warnings[0].getMessage()
