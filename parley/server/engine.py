"""The seam between HTTP handlers and the dialogue engine: engine errors -> HTTP statuses,
trackers -> Rasa's tracker JSON."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from parley.server.errors import ApiError
from parley.server.runtime import ServedAgent
from parley.server.schemas import EventVerbosity

T = TypeVar("T")


async def call_engine(awaitable: Awaitable[T]) -> T:
    """Await an engine call; the engine's "bad input" errors become 400 with its message."""
    try:
        return await awaitable
    except (ValueError, KeyError, LookupError) as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise ApiError(400, message) from None


async def tracker_state(
    agent: ServedAgent,
    conversation_id: str,
    verbosity: EventVerbosity = EventVerbosity.AFTER_RESTART,
    until: float | None = None,
) -> dict[str, Any]:
    """The conversation's tracker as Rasa's JSON (`sender_id`, `slots`, `events`, ...)."""
    tracker = await call_engine(agent.get_tracker(conversation_id))
    state: dict[str, Any] = tracker.current_state(verbosity.value)
    if until is not None and state.get("events") is not None:
        state["events"] = [e for e in state["events"] if e.get("timestamp", 0) <= until]
    return state
