"""The seam between HTTP handlers and the dialogue engine: engine errors -> HTTP statuses,
trackers -> Rasa's tracker JSON with the requested event verbosity."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from parley.dialogue.event_checks import EventCheckError
from parley.dialogue.event_checks import check_events as check_event_dicts
from parley.project.domain import BUILTIN_ACTIONS, DEFAULT_INTENTS, Domain
from parley.server.errors import ApiError
from parley.server.runtime import ServedAgent
from parley.server.schemas import EventVerbosity

T = TypeVar("T")


async def call_engine(awaitable: Awaitable[T]) -> T:
    """Await an engine call; the engine's "bad input" errors (ValueError: EventError and the
    like) become 400 with its message. Anything else, a KeyError included, is a bug: 500."""
    try:
        return await awaitable
    except ValueError as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise ApiError(400, message) from None


def check_events(events: list[dict[str, Any]], domain: Domain) -> list[dict[str, Any]]:
    """The events when every one can be stored; else ApiError(400) naming the first bad one
    (its index and field, also in `details`)."""
    try:
        return check_event_dicts(events, domain)
    except EventCheckError as exc:
        problem = exc.problem
        raise ApiError(
            400, str(problem), details={"index": problem.index, "field": problem.field}
        ) from None


def check_entities(entities: dict[str, Any] | None) -> None:
    """ApiError(400) unless `entities` (entity name -> value) can be stored in an event."""
    if not entities:
        return
    listed = [{"entity": name, "value": value} for name, value in entities.items()]
    try:
        check_event_dicts([{"event": "entities", "entities": listed}])
    except EventCheckError as exc:
        raise ApiError(400, f"entities: {exc.problem.message}") from None


def check_action(agent: ServedAgent, name: str) -> None:
    """ApiError(400) unless `name` is a built-in action or declared in the domain."""
    domain = agent.domain
    if name not in BUILTIN_ACTIONS and name not in domain.user_action_names:
        raise ApiError(400, f"action {name!r} is not in the domain and is not a built-in action")


def check_intent(agent: ServedAgent, name: str) -> None:
    """ApiError(404) unless the domain declares intent `name` (Rasa answers 404 too)."""
    if name not in agent.domain.intent_names and name not in DEFAULT_INTENTS:
        raise ApiError(404, f"the intent {name!r} does not exist in the domain")


def state_of(
    tracker: Any,
    verbosity: EventVerbosity = EventVerbosity.AFTER_RESTART,
    until: float | None = None,
) -> dict[str, Any]:
    """Rasa's tracker JSON (`sender_id`, `slots`, `events`, ...) with the chosen events."""
    state: dict[str, Any] = tracker.current_state(verbosity is not EventVerbosity.NONE)
    events = state.get("events")
    if events is None:
        return state
    if verbosity is EventVerbosity.APPLIED:
        events = [e.as_dict() for e in tracker.applied_events()]
    elif verbosity is EventVerbosity.AFTER_RESTART:
        restarts = [i for i, e in enumerate(events) if e.get("event") == "restart"]
        if restarts:
            events = events[restarts[-1] + 1 :]
    if until is not None:
        events = [e for e in events if float(e.get("timestamp") or 0) <= until]
    state["events"] = events
    return state


async def tracker_state(
    agent: ServedAgent,
    conversation_id: str,
    verbosity: EventVerbosity = EventVerbosity.AFTER_RESTART,
    until: float | None = None,
) -> dict[str, Any]:
    """Load the conversation's tracker and render it (see `state_of`)."""
    tracker = await call_engine(agent.get_tracker(conversation_id))
    return state_of(tracker, verbosity, until)
