"""Closed-loop load on the REST channel, in its own process; prints one JSON line.

N virtual users send messages back to back for a fixed time, 127.0.0.1 only. Each user holds
conversations of `--turns` messages (cycling through a short script of the assistant, `--script`),
then starts a new conversation with a new sender id, so trackers stay the size of real
conversations; `--turns 0`: one conversation per user that grows through the whole run.

Each user keeps one HTTP/1.1 keep-alive connection and speaks it directly over asyncio streams
(uvloop when installed): the generator shares the 2 cores with the server it measures, so it
must cost little per request. Its own CPU time per request is reported (`generator_cpu_ms`);
an aiohttp client took several times as much.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid
from urllib.parse import urlsplit

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


class Connection:
    """One keep-alive connection that POSTs JSON and reads the JSON answer."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, payload: dict[str, str]) -> object:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(payload).encode()
        self.writer.write(
            b"POST %s HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s"
            % (self.path.encode(), self.host.encode(), len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            self.close()
            raise HttpError("no content-length")
        answer = await self.reader.readexactly(length)
        if status != 200:
            raise HttpError(f"http {status}")
        return json.loads(answer)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def user(
    connection: Connection,
    name: str,
    turns: int,
    script: tuple[str, ...],
    deadline: float,
    latencies: list[float],
    errors: list[str],
    timeout: float,
) -> None:
    conversation = 0
    sent = 0
    while time.perf_counter() < deadline:
        sender = f"{name}-{conversation}"
        text = script[sent % len(script)]
        start = time.perf_counter()
        try:
            await asyncio.wait_for(connection.post({"sender": sender, "message": text}), timeout)
            latencies.append(time.perf_counter() - start)
        except (TimeoutError, OSError, EOFError, ValueError, HttpError) as exc:
            errors.append(str(exc) if isinstance(exc, HttpError) else type(exc).__name__)
            connection.close()  # a fresh connection for the next message
        sent += 1
        if turns and sent % turns == 0:
            conversation += 1


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
        await connection.post({"sender": f"warm-{run}-{i}", "message": "hi"})
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
                args.timeout,
            )
            for i, c in enumerate(connections)
        ]
    )
    elapsed = time.perf_counter() - start
    generator_cpu = _cpu_seconds() - cpu_before
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
