"""The HTTP API (Rasa's paths and shapes): parse, trackers, events, actions, model swap.

Mounted only with `--enable-api`. Every route authenticates (see `auth.py`) and needs the
permission `parley/access/policy.py` declares for it; a JWT `user` reaches its own conversation.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi import Path as PathParam

from parley.access.dependencies import route_permission
from parley.server.auth import audit
from parley.server.config import ServerConfig
from parley.server.engine import (
    call_engine,
    check_action,
    check_events,
    check_intent,
    state_of,
    tracker_state,
)
from parley.server.errors import ApiError
from parley.server.metrics import ServerMetrics
from parley.server.runtime import AgentHolder, ModelSwapError
from parley.server.schemas import (
    MAX_ID,
    Event,
    EventVerbosity,
    ExecuteRequest,
    MessageRequest,
    ModelRequest,
    ParseRequest,
    TriggerIntentRequest,
)
from parley.server.workers import ModelPointer

logger = logging.getLogger(__name__)

ConversationId = Annotated[
    str, PathParam(min_length=1, max_length=MAX_ID, description="The conversation (sender) id.")
]
Verbosity = Annotated[EventVerbosity, Query(description="Which events to include in the tracker.")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request"},
    401: {"description": "Not authenticated"},
    403: {"description": "Not authorized"},
}


def api_router(holder: AgentHolder, config: ServerConfig, metrics: ServerMetrics) -> APIRouter:
    """Routes of the HTTP API, bound to the agent holder and the auth settings."""
    guarded = [Depends(route_permission)]
    router = APIRouter(tags=["api"], responses=_ERRORS, dependencies=guarded)
    admin_router = APIRouter(tags=["admin"], responses=_ERRORS, dependencies=guarded)

    @router.get("/status", summary="The model in service")
    async def status() -> dict[str, Any]:
        path = holder.model_path
        return {
            "model_id": holder.agent.model_id,
            "model_file": str(path) if path else None,
            "num_active_training_jobs": 0,
        }

    @router.post("/model/parse", summary="Run NLU on a text")
    async def parse(body: ParseRequest) -> dict[str, Any]:
        result = await call_engine(holder.agent.parse(body.text))
        return dict(result)

    @admin_router.put("/model", status_code=204, summary="Serve another model, without downtime")
    async def replace_model(body: ModelRequest, request: Request) -> Response:
        if body.model_server or body.remote_storage:
            raise ApiError(400, "Only 'model_file' (a path on the server) is supported.")
        if not body.model_file:
            raise ApiError(400, "Give 'model_file': the path of a model archive on the server.")
        model = Path(body.model_file).resolve()
        try:
            await holder.swap(model)
        except ModelSwapError as exc:
            raise ApiError(400, str(exc), reason="LoadingFailed") from None
        if config.model_pointer is not None:  # the other workers follow
            ModelPointer(config.model_pointer).write(model)
        await audit(request, "model_replace", str(model))
        return Response(status_code=204)

    @router.get("/conversations/{conversation_id}/tracker", summary="A conversation's tracker")
    async def get_tracker(
        conversation_id: ConversationId,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
        until: Annotated[float | None, Query(description="Only events up to this time.")] = None,
    ) -> dict[str, Any]:
        return await tracker_state(holder.agent, conversation_id, include_events, until)

    @router.put("/conversations/{conversation_id}/tracker", summary="Replace a tracker's events")
    async def replace_tracker(
        conversation_id: ConversationId,
        events: list[Event],
        request: Request,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        tracker = await call_engine(holder.agent.replace_events(conversation_id, _dump(events)))
        await audit(request, "tracker_replace", conversation_id, {"events": len(events)})
        return state_of(tracker, include_events)

    @router.post(
        "/conversations/{conversation_id}/tracker/events", summary="Append events to a tracker"
    )
    async def append_events(
        conversation_id: ConversationId,
        events: Annotated[Event | list[Event], Body()],
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        batch = events if isinstance(events, list) else [events]
        tracker = await call_engine(holder.agent.append_events(conversation_id, _dump(batch)))
        return state_of(tracker, include_events)

    @router.post(
        "/conversations/{conversation_id}/messages",
        summary="Add a user message (NLU runs, no action is predicted)",
    )
    async def add_message(
        conversation_id: ConversationId,
        body: MessageRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent
        parse_data = body.parse_data or dict(await call_engine(agent.parse(body.text)))
        event = {"event": "user", "text": body.text, "parse_data": parse_data}
        tracker = await call_engine(agent.append_events(conversation_id, [event]))
        return state_of(tracker, include_events)

    @router.post("/conversations/{conversation_id}/execute", summary="Run an action")
    async def execute(
        conversation_id: ConversationId,
        body: ExecuteRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent
        check_action(agent, body.name)
        messages = await call_engine(agent.execute_action(conversation_id, body.name))
        tracker = await tracker_state(agent, conversation_id, include_events)
        return {"tracker": tracker, "messages": messages}

    @router.post(
        "/conversations/{conversation_id}/trigger_intent",
        summary="Act as if the user sent an intent",
    )
    async def trigger_intent(
        conversation_id: ConversationId,
        body: TriggerIntentRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent
        check_intent(agent, body.name)
        messages = await call_engine(
            agent.trigger_intent(conversation_id, body.name, body.entities or {})
        )
        tracker = await tracker_state(agent, conversation_id, include_events)
        return {"tracker": tracker, "messages": messages}

    @router.post(
        "/conversations/{conversation_id}/predict", summary="Score the next action (no change)"
    )
    async def predict(
        conversation_id: ConversationId,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent
        prediction = dict(await call_engine(agent.predict_next(conversation_id)))
        prediction["tracker"] = await tracker_state(agent, conversation_id, include_events)
        return prediction

    @admin_router.post(
        "/admin/conversations/{conversation_id}/handoff/release",
        summary="Give a handed-off conversation back to the bot",
    )
    async def release_handoff(
        conversation_id: ConversationId,
        request: Request,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        tracker = await call_engine(holder.agent.release_handoff(conversation_id))
        metrics.handoff_releases.inc()
        await audit(request, "handoff_release", conversation_id)
        return state_of(tracker, include_events)

    router.include_router(admin_router)
    return router


def _dump(events: list[Event]) -> list[dict[str, Any]]:
    return check_events([e.model_dump(exclude_none=True) for e in events])
