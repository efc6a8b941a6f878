"""Closed-loop load on the REST channel, in its own process; prints one JSON line.

N virtual users send messages back to back for a fixed time, 127.0.0.1 only. Each user holds
conversations of `--turns` messages (cycling through a short help-desk script), then starts a new
conversation with a new sender id, so trackers stay the size of real conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import aiohttp

SCRIPT = (
    "hi",
    "how do I connect to the vpn",
    "my printer is not working",
    "thanks",
    "bye",
)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index] * 1000, 2)


async def user(
    session: aiohttp.ClientSession,
    url: str,
    name: str,
    turns: int,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    conversation = 0
    sent = 0
    while time.perf_counter() < deadline:
        sender = f"{name}-{conversation}"
        text = SCRIPT[sent % len(SCRIPT)]
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                body = await reply.read()
                if reply.status != 200:
                    errors.append(f"http {reply.status}")
                else:
                    json.loads(body)
                    latencies.append(time.perf_counter() - start)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            errors.append(type(exc).__name__)
        sent += 1
        if sent % turns == 0:
            conversation += 1


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("--turns", type=int, default=10, help="messages per conversation")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise SystemExit("load goes to this machine only (127.0.0.1)")
    run = uuid.uuid4().hex[:6]
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    latencies: list[float] = []
    errors: list[str] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for i in range(3):  # warm-up, not counted
            await session.post(args.url, json={"sender": f"warm-{run}-{i}", "message": "hi"})
        start = time.perf_counter()
        deadline = start + args.duration
        await asyncio.gather(
            *[
                user(session, args.url, f"vu-{run}-{i}", args.turns, deadline, latencies, errors)
                for i in range(args.concurrency)
            ]
        )
        elapsed = time.perf_counter() - start
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
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
