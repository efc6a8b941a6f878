"""Closed-loop load on the REST channel, in its own process; prints one JSON line.

N virtual users send messages back to back for a fixed time, 127.0.0.1 only. Each user holds
conversations of `--turns` messages (cycling through a short script of the assistant, `--script`),
then starts a new conversation with a new sender id, so trackers stay the size of real
conversations; `--turns 0`: one conversation per user that grows through the whole run.

The generator shares the 2 cores with the server it measures, so it must cost little per
request: each user keeps one HTTP/1.1 keep-alive connection, spoken by an asyncio protocol
(uvloop when installed) with its requests assembled from pre-encoded parts, and one watchdog
enforces the timeout of all of them (no timer per request). Its own CPU time per request is
reported (`generator_cpu_ms`); asyncio streams with a `wait_for` per request took about twice
as much, an aiohttp client several times as much.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid
from urllib.parse import urlsplit

import orjson

SCRIPTS = {
    "helpdesk": ("hi", "how do I connect to the vpn", "my printer is not working", "thanks", "bye"),
    "moodbot": ("hello", "I am sad", "yes", "no", "I am great", "are you a bot?", "bye"),
}


class HttpError(Exception):
    """The server answered something other than 200 with a JSON body."""


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index] * 1000, 2)


def message_body(sender: str, text: str) -> bytes:
    return orjson.dumps({"sender": sender, "message": text})


class _Wire(asyncio.Protocol):
    """One TCP connection: sends a request, parses the answer into its waiter."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[object] | None = None
        self.sent_at = 0.0  # when the request in flight was sent; 0: none in flight

    def send(self, request: bytes) -> asyncio.Future[object]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.buffer.clear()
        self.sent_at = time.perf_counter()
        self.transport.write(request)
        return self.waiter

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.fail(HttpError("no content-length"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        if status != 200:
            self.fail(HttpError(f"http {status}"))
            return
        try:
            answer = orjson.loads(bytes(self.buffer[end + 4 : end + 4 + length]))
        except orjson.JSONDecodeError as exc:
            self.fail(exc)
            return
        self.sent_at = 0.0
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or EOFError())

    def fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.abort()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class Connection:
    """A user's keep-alive connection that POSTs JSON and reads the JSON answer."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port = host, port
        self.head = (
            b"POST %s HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"content-length: " % (path.encode(), host.encode())
        )
        self.wire: _Wire | None = None

    async def post(self, body: bytes) -> object:
        if self.wire is None or self.wire.transport is None:
            loop = asyncio.get_running_loop()
            _, self.wire = await loop.create_connection(_Wire, self.host, self.port)
        return await self.wire.send(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))

    def expire(self, now: float, timeout: float) -> None:
        """Fail the request in flight if it has waited longer than `timeout`."""
        wire = self.wire
        if wire is not None and wire.sent_at and now - wire.sent_at > timeout:
            wire.fail(TimeoutError())

    def close(self) -> None:
        if self.wire is not None:
            self.wire.abort()
        self.wire = None


async def watchdog(connections: list[Connection], timeout: float) -> None:
    """Time out requests that waited too long; one timer for every connection."""
    while True:
        await asyncio.sleep(min(0.5, timeout / 4))
        now = time.perf_counter()
        for connection in connections:
            connection.expire(now, timeout)


async def user(
    connection: Connection,
    name: str,
    turns: int,
    script: tuple[str, ...],
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    conversation = 0
    sent = 0
    bodies = [message_body(f"{name}-{conversation}", text) for text in script]
    while time.perf_counter() < deadline:
        body = bodies[sent % len(script)]
        start = time.perf_counter()
        try:
            await connection.post(body)
            latencies.append(time.perf_counter() - start)
        except (TimeoutError, OSError, EOFError, ValueError, HttpError) as exc:
            errors.append(str(exc) if isinstance(exc, HttpError) else type(exc).__name__)
            connection.close()  # a fresh connection for the next message
        sent += 1
        if turns and sent % turns == 0:
            conversation += 1
            bodies = [message_body(f"{name}-{conversation}", text) for text in script]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument(
        "--turns", type=int, default=10, help="messages per conversation (0: one, ever growing)"
    )
    parser.add_argument("--script", choices=sorted(SCRIPTS), default="helpdesk")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise SystemExit("load goes to this machine only (127.0.0.1)")
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    run = uuid.uuid4().hex[:6]
    connections = [Connection(host, port, url.path) for _ in range(args.concurrency)]
    for i, connection in enumerate(connections[:3]):  # warm-up, not counted
        await connection.post(message_body(f"warm-{run}-{i}", "hi"))
    guard = asyncio.get_running_loop().create_task(watchdog(connections, args.timeout))
    latencies: list[float] = []
    errors: list[str] = []
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    deadline = start + args.duration
    await asyncio.gather(
        *[
            user(
                c,
                f"vu-{run}-{i}",
                args.turns,
                SCRIPTS[args.script],
                deadline,
                latencies,
                errors,
            )
            for i, c in enumerate(connections)
        ]
    )
    elapsed = time.perf_counter() - start
    generator_cpu = _cpu_seconds() - cpu_before
    guard.cancel()
    for connection in connections:
        connection.close()
    print(
        json.dumps(
            {
                "concurrency": args.concurrency,
                "duration_s": round(elapsed, 2),
                "turns_per_conversation": args.turns,
                "ok": len(latencies),
                "errors": len(errors),
                "error_kinds": sorted(set(errors)),
                "msgs_per_s": round(len(latencies) / elapsed, 1),
                "p50_ms": percentile(latencies, 50),
                "p95_ms": percentile(latencies, 95),
                "p99_ms": percentile(latencies, 99),
                "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
                "generator_cpu_ms": round(
                    generator_cpu * 1000 / max(1, len(latencies) + len(errors)), 3
                ),
            }
        )
    )


def run() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
        return
    uvloop.run(main())


if __name__ == "__main__":
    run()
