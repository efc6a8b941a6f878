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
from parley.server.api_support import (
    call_engine,
    check_action,
    check_entities,
    check_events,
    check_intent,
    state_of,
    tracker_state,
)
from parley.server.auth import audit
from parley.server.config import ServerConfig
from parley.server.errors import ApiError
from parley.server.inputs import check_conversation_id, check_text
from parley.server.metrics import ServerMetrics
from parley.server.runtime import AgentHolder, ModelSwapError, ServedAgent
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


# OpenAPI links: what can follow a call on a conversation, on the same conversation (clients
# and stateful API testers such as schemathesis chain calls with them).
_NEXT = {
    "GetTracker": "getTracker",
    "AppendEvents": "appendEvents",
    "AddMessage": "addMessage",
    "ExecuteAction": "executeAction",
    "PredictAction": "predictAction",
}
_FOLLOW_UPS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Successful Response",
        "links": {
            name: {
                "operationId": operation,
                "parameters": {"conversation_id": "$request.path.conversation_id"},
            }
            for name, operation in _NEXT.items()
        },
    }
}


def api_router(holder: AgentHolder, config: ServerConfig, metrics: ServerMetrics) -> APIRouter:
    """Routes of the HTTP API, bound to the agent holder and the auth settings."""
    guarded = [Depends(route_permission)]
    router = APIRouter(
        tags=["api"], responses=_ERRORS, dependencies=[*guarded, Depends(_conversation_id)]
    )
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
        check_text(body.text, config.max_message_chars, "/model/parse")
        result = await call_engine(holder.agent.parse(body.text))
        return dict(result)

    @admin_router.put("/model", status_code=204, summary="Serve another model, without downtime")
    async def replace_model(body: ModelRequest, request: Request) -> Response:
        if body.model_server or body.remote_storage:
            raise ApiError(400, "Only 'model_file' (a path on the server) is supported.")
        if not body.model_file:
            raise ApiError(400, "Give 'model_file': the path of a model archive on the server.")
        model = model_in_folders(body.model_file, config.model_folders)
        if model is None:
            logger.warning("PUT /model: refused a path outside the model folders")
            raise ApiError(400, MODEL_REFUSED, reason="LoadingFailed")
        try:
            await holder.swap(model)
        except ModelSwapError as exc:
            logger.warning("PUT /model: %s", exc)  # the reason, for the operator only
            raise ApiError(400, MODEL_REFUSED, reason="LoadingFailed") from None
        if config.model_pointer is not None:  # the other workers follow
            ModelPointer(config.model_pointer).write(model)
        await audit(request, "model_replace", str(model))
        return Response(status_code=204)

    @router.get(
        "/conversations/{conversation_id}/tracker",
        summary="A conversation's tracker",
        operation_id="getTracker",
        responses=_FOLLOW_UPS,
    )
    async def get_tracker(
        conversation_id: ConversationId,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
        until: Annotated[float | None, Query(description="Only events up to this time.")] = None,
    ) -> dict[str, Any]:
        return await tracker_state(
            holder.agent_for(conversation_id), conversation_id, include_events, until
        )

    @router.put(
        "/conversations/{conversation_id}/tracker",
        summary="Replace a tracker's events",
        operation_id="replaceTracker",
        responses=_FOLLOW_UPS,
    )
    async def replace_tracker(
        conversation_id: ConversationId,
        events: list[Event],
        request: Request,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
        checked = _checked(events, agent)
        tracker = await call_engine(agent.replace_events(conversation_id, checked))
        await audit(request, "tracker_replace", conversation_id, {"events": len(events)})
        return state_of(tracker, include_events)

    @router.post(
        "/conversations/{conversation_id}/tracker/events",
        summary="Append events to a tracker",
        operation_id="appendEvents",
        responses=_FOLLOW_UPS,
    )
    async def append_events(
        conversation_id: ConversationId,
        events: Annotated[Event | list[Event], Body()],
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
        batch = _checked(events if isinstance(events, list) else [events], agent)
        tracker = await call_engine(agent.append_events(conversation_id, batch))
        return state_of(tracker, include_events)

    @router.post(
        "/conversations/{conversation_id}/messages",
        summary="Add a user message (NLU runs, no action is predicted)",
        operation_id="addMessage",
        responses=_FOLLOW_UPS,
    )
    async def add_message(
        conversation_id: ConversationId,
        body: MessageRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
        check_text(body.text, config.max_message_chars, "/conversations/{id}/messages")
        parse_data = body.parse_data or dict(await call_engine(agent.parse(body.text)))
        event = {"event": "user", "text": body.text, "parse_data": parse_data}
        tracker = await call_engine(agent.append_events(conversation_id, [event]))
        return state_of(tracker, include_events)

    @router.post(
        "/conversations/{conversation_id}/execute",
        summary="Run an action",
        operation_id="executeAction",
        responses=_FOLLOW_UPS,
    )
    async def execute(
        conversation_id: ConversationId,
        body: ExecuteRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
        check_action(agent, body.name)
        messages = await call_engine(agent.execute_action(conversation_id, body.name))
        tracker = await tracker_state(agent, conversation_id, include_events)
        return {"tracker": tracker, "messages": messages}

    @router.post(
        "/conversations/{conversation_id}/trigger_intent",
        summary="Act as if the user sent an intent",
        operation_id="triggerIntent",
        responses=_FOLLOW_UPS,
    )
    async def trigger_intent(
        conversation_id: ConversationId,
        body: TriggerIntentRequest,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
        output_channel: Annotated[
            str | None,
            Query(
                description="Also send the bot's messages to this channel; `latest`: the"
                " channel the user spoke on last (callback, socketio)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
        check_intent(agent, body.name)
        check_entities(body.entities)
        entities = body.entities or {}
        messages = await call_engine(
            agent.trigger_intent(
                conversation_id, body.name, entities, output_channel=output_channel
            )
            if output_channel
            else agent.trigger_intent(conversation_id, body.name, entities)
        )
        tracker = await tracker_state(agent, conversation_id, include_events)
        return {"tracker": tracker, "messages": messages}

    @router.post(
        "/conversations/{conversation_id}/predict",
        summary="Score the next action (no change)",
        operation_id="predictAction",
        responses=_FOLLOW_UPS,
    )
    async def predict(
        conversation_id: ConversationId,
        include_events: Verbosity = EventVerbosity.AFTER_RESTART,
    ) -> dict[str, Any]:
        agent = holder.agent_for(conversation_id)
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
        tracker = await call_engine(
            holder.agent_for(conversation_id).release_handoff(conversation_id)
        )
        metrics.handoff_releases.inc()
        await audit(request, "handoff_release", conversation_id)
        return state_of(tracker, include_events)

    router.include_router(admin_router)
    return router


def _checked(events: list[Event], agent: ServedAgent) -> list[dict[str, Any]]:
    """The events as dicts when all of them can be stored (ApiError(400) naming the first bad
    one otherwise): nothing of a request is stored unless all of it can be."""
    return check_events([e.model_dump(exclude_none=True) for e in events], agent.domain)


async def _conversation_id(request: Request) -> None:
    """Every route with a conversation id: the id follows the rule of all channels and stores."""
    conversation_id = request.path_params.get("conversation_id")
    if conversation_id is not None:
        check_conversation_id(conversation_id)


MODEL_REFUSED = (
    "Cannot load that model: 'model_file' must be the path of a Parley model archive in a model"
    " folder of this server (models/ of the project, or server.model_folders in parley.yml)."
)


def model_in_folders(model_file: str, folders: tuple[Path, ...]) -> Path | None:
    """`model_file` resolved (links followed) when it lies in one of `folders`, else None."""
    if "\x00" in model_file:
        return None
    try:
        model = Path(model_file).resolve()
        allowed = [folder.resolve() for folder in folders]
    except (OSError, ValueError, RuntimeError):
        return None
    if any(model.is_relative_to(folder) and model != folder for folder in allowed):
        return model
    return None
