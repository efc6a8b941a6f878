"""One write per response: the writes a connection makes in one event-loop turn are sent
together, and nothing written is lost when the connection closes."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from parley.server.http_protocol import CoalescingTransport
from tests.server.live import running


class _Recording:
    """Forwards to a real transport and records what reaches it."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.transport.write(data)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def _connected() -> tuple[_Recording, CoalescingTransport, socket.socket]:
    ours, peer = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    recording = _Recording(transport)
    return recording, CoalescingTransport(recording, loop), peer  # type: ignore[arg-type]


def _read_all(peer: socket.socket) -> bytes:
    peer.settimeout(5)
    chunks = []
    while chunk := peer.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_writes_in_one_turn_leave_as_one() -> None:
    recording, transport, peer = await _connected()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"ok")
    assert recording.writes == []  # sent at the end of this turn of the loop
    await asyncio.sleep(0)
    assert recording.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"next")  # a later turn: a write of its own
    await asyncio.sleep(0)
    assert recording.writes[1:] == [b"next"]
    transport.close()
    await asyncio.sleep(0.01)
    assert _read_all(peer) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\noknext"
    peer.close()


async def test_closing_sends_what_was_written_first() -> None:
    _, transport, peer = await _connected()
    transport.write(b"last words")
    transport.close()
    await asyncio.sleep(0.01)
    assert _read_all(peer) == b"last words"
    assert transport.is_closing()
    peer.close()


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = scope["path"].encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def test_keep_alive_connections_get_every_response_whole() -> None:
    async with running(_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for path in ("/one", "/two", "/three"):
            writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            assert await reader.readexactly(length) == path.encode()
        writer.close()
