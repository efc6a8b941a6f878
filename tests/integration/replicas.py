"""Load generator and consistency checker for the multi-replica scale test.

Talks to Parley servers over the REST channel (`POST /webhooks/rest/webhook {"sender",
"message"}`) and the HTTP API (`GET /conversations/{id}/tracker`), like a load balancer would:
each conversation's turns go round-robin to the replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
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
