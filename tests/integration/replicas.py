"""Load generator and consistency checker for the multi-replica scale test.

Talks to Parley servers over the REST channel (`POST /webhooks/rest/webhook {"sender",
"message"}`) and the HTTP API (`GET /conversations/{id}/tracker`), like a load balancer would:
each conversation's turns go round-robin to the replicas.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class Conversation:
    """What one simulated user sent, and which of its messages a replica acknowledged."""

    sender_id: str
    sent: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    conversations: list[Conversation]
    turns_ok: int = 0
    turns_failed: int = 0
    failures_by_replica: dict[str, int] = field(default_factory=dict)


def message_text(conversation: int, turn: int) -> str:
    return f"hello there, message {turn} of user {conversation}"


async def run_load(
    urls: Sequence[str],
    conversations: int = 200,
    turns: int = 10,
    concurrency: int = 20,
    timeout: float = 30.0,
    prefix: str = "scale",
    on_turn: Any = None,
) -> LoadReport:
    """Send `conversations` x `turns` messages; turn t of conversation c goes to replica
    (c + t) mod N. Conversations run `concurrency` at a time, each turn after the previous one's
    reply. `on_turn(done_count)` is awaited after every turn (to kill a replica mid-load)."""
    report = LoadReport([Conversation(f"{prefix}-{c}") for c in range(conversations)])
    gate = asyncio.Semaphore(concurrency)
    done = 0
    async with httpx.AsyncClient(timeout=timeout) as client:

        async def converse(index: int, conversation: Conversation) -> None:
            nonlocal done
            async with gate:
                for turn in range(turns):
                    url = urls[(index + turn) % len(urls)]
                    text = message_text(index, turn)
                    conversation.sent.append(text)
                    try:
                        response = await client.post(
                            f"{url}/webhooks/rest/webhook",
                            json={"sender": conversation.sender_id, "message": text},
                        )
                        ok = response.status_code == 200 and isinstance(response.json(), list)
                    except (httpx.HTTPError, ValueError):
                        ok = False
                    if ok:
                        conversation.acknowledged.append(text)
                        report.turns_ok += 1
                    else:
                        conversation.failed.append(text)
                        report.turns_failed += 1
                        report.failures_by_replica[url] = report.failures_by_replica.get(url, 0) + 1
                    done += 1
                    if on_turn is not None:
                        await on_turn(done)

        await asyncio.gather(*(converse(i, c) for i, c in enumerate(report.conversations)))
    return report


async def fetch_events(url: str, sender_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.get(f"{url}/conversations/{sender_id}/tracker")
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json().get("events") or []
        return events


def consistency_problems(conversation: Conversation, events: Sequence[dict[str, Any]]) -> list[str]:
    """What is wrong with a conversation's stored events, given what was sent and acknowledged.

    - every acknowledged message is stored, once, in the order it was sent;
    - a message whose request failed (replica killed) is stored whole or not at all;
    - nothing is stored that was not sent; no event id appears twice;
    - every stored turn ends with `action_listen` before the next user message.
    """
    problems: list[str] = []
    who = conversation.sender_id
    user_texts = [e.get("text") for e in events if e.get("event") == "user"]
    if len(user_texts) != len(set(user_texts)):
        problems.append(f"{who}: a user message is stored twice")
    unknown = [t for t in user_texts if t not in conversation.sent]
    if unknown:
        problems.append(f"{who}: stored messages that were never sent: {unknown[:3]}")
    expected_order = [t for t in conversation.sent if t in user_texts]
    if user_texts != expected_order:
        problems.append(f"{who}: user messages stored out of order")
    missing = [t for t in conversation.acknowledged if t not in user_texts]
    if missing:
        problems.append(f"{who}: acknowledged messages lost: {missing[:3]}")
    ids = [
        (e.get("metadata") or {}).get("event_id")
        for e in events
        if (e.get("metadata") or {}).get("event_id")
    ]
    if len(ids) != len(set(ids)):
        problems.append(f"{who}: an event id appears twice")
    problems.extend(_incomplete_turns(who, events))
    return problems


def _incomplete_turns(who: str, events: Sequence[dict[str, Any]]) -> list[str]:
    problems = []
    user_positions = [i for i, e in enumerate(events) if e.get("event") == "user"]
    for start, end in zip(user_positions, [*user_positions[1:], len(events)], strict=True):
        turn = events[start:end]
        if not any(e.get("event") == "action" and e.get("name") == "action_listen" for e in turn):
            problems.append(f"{who}: the turn of {events[start].get('text')!r} is incomplete")
    return problems


@dataclass
class Timed:
    """One request of `run_users`: when it was sent and answered (monotonic seconds)."""

    sender_id: str
    sent: float
    answered: float
    ok: bool
    error: str = ""


@dataclass
class UsersReport:
    conversations: list[Conversation]
    requests: list[Timed]

    def late_after(self, moment: float, limit: float) -> list[Timed]:
        """Requests not answered within `limit` s of `moment` or of their sending, whichever is
        later: a reply that waited on a lock of a killed process longer than `limit`, or a
        request that timed out. Requests that failed at once (the killed process's own
        connections) are not late."""
        return [
            r
            for r in self.requests
            if r.answered - max(r.sent, moment) > limit and (r.ok or "Timeout" in r.error)
        ]


async def run_users(
    url: str,
    users: int = 32,
    duration: float = 10.0,
    turns: int = 10,
    prefix: str = "users",
    timeout: float = 20.0,
) -> UsersReport:
    """`users` simulated users talk to one server (several workers behind one port) for
    `duration` seconds, each a conversation of `turns` messages after another, a message after
    the previous reply; a failed request is not sent again (its turn is stored whole or not at
    all: the checker allows both)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    report = UsersReport([], [])
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def user(number: int) -> None:
            started = 0
            while loop.time() < deadline:
                conversation = Conversation(f"{prefix}-{number}-{started}")
                report.conversations.append(conversation)
                started += 1
                for turn in range(turns):
                    if loop.time() >= deadline:
                        break
                    text = message_text(number, turn)
                    conversation.sent.append(text)
                    sent = loop.time()
                    error = ""
                    try:
                        response = await client.post(
                            "/webhooks/rest/webhook",
                            json={"sender": conversation.sender_id, "message": text},
                        )
                        ok = response.status_code == 200 and isinstance(response.json(), list)
                        error = "" if ok else f"HTTP {response.status_code}"
                    except (httpx.HTTPError, ValueError) as exc:
                        ok, error = False, type(exc).__name__
                    (conversation.acknowledged if ok else conversation.failed).append(text)
                    report.requests.append(
                        Timed(conversation.sender_id, sent, loop.time(), ok, error)
                    )

        await asyncio.gather(*(user(n) for n in range(users)))
    return report


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes of `parley run --workers N` (its children)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children")
    return sorted(int(pid) for pid in children.read_text().split())


async def kill_a_worker_under_load(
    url: str, supervisor: int, prefix: str, users: int = 32, duration: float = 9.0
) -> tuple[UsersReport, float]:
    """Run `users` users for `duration` s and SIGKILL one worker a third of the way in;
    returns the load's report and when the worker was killed (loop time)."""
    loop = asyncio.get_running_loop()
    load = asyncio.create_task(run_users(url, users=users, duration=duration, prefix=prefix))
    await asyncio.sleep(duration / 3)
    os.kill(worker_pids(supervisor)[0], signal.SIGKILL)
    killed = loop.time()
    return await load, killed
