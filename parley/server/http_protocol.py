"""uvicorn's HTTP protocol (httptools), with a response's writes sent as one and limits on
request headers.

uvicorn writes a response's status line and headers when the app sends `http.response.start`,
then its body on `http.response.body`: two writes, so two `send` system calls and two TCP
segments for every answer, and the client wakes up twice. Here the writes a connection makes in
one turn of the event loop are joined and sent at the end of that turn (the app sends both
messages in the same turn): one system call per answer. Measured on the REST webhook with one
worker (py-spy): writing responses was 13% of a served message's time.

httptools itself puts no bound on headers (a 200 KB header or 5,000 headers were accepted, and
a header is held in memory until it ends): here a request whose header section exceeds
MAX_HEAD_BYTES, one of whose headers exceeds MAX_HEADER_BYTES, or that has more than
MAX_HEADERS headers is answered 431 and its connection closed (the limits of Apache and nginx).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley.server.errors import error_body

MAX_HEADERS = 100
MAX_HEADER_BYTES = 8 * 1024  # one header, name and value
MAX_HEAD_BYTES = 64 * 1024  # request line and all headers


class HeadersTooLarge(Exception):
    """Raised from a parser callback: the request's headers exceed a limit."""


class CoalescingTransport:
    """A transport whose writes within one event-loop turn go out as one write; everything
    else is the wrapped transport's own (flow control, close, extra info, ...)."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what was written so far (also done at the end of the loop's turn)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # asyncio's close sends what is buffered first, and so does this
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `CoalescingTransport`, with header limits (use as
    `uvicorn.Config(http=)`)."""

    _in_head = True  # between the start of a request and the end of its headers
    _head_bytes = 0
    _refusal: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # the connection is closing
        in_head_before = self._in_head
        super().data_received(data)
        if self._in_head and in_head_before and self._refusal is None:
            self._head_bytes += len(data)  # all of it was head: the headers are not complete
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(f"The request's headers are larger than {MAX_HEAD_BYTES} bytes.")
                self.send_400_response("")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            self._refuse(f"The request has more than {MAX_HEADERS} headers.")
        elif len(name) + len(value) > MAX_HEADER_BYTES:
            self._refuse(f"A request header is larger than {MAX_HEADER_BYTES} bytes.")
        if self._refusal is not None:
            raise HeadersTooLarge(self._refusal)  # the parser stops; see send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _refuse(self, message: str) -> None:
        self._refusal = message

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
            return
        body = json.dumps(error_body(431, self._refusal)).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()
