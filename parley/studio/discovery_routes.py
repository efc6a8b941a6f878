"""The studio's pages for what users want that the assistant cannot do yet (unhandled messages
clustered into candidate intents, promoted in one step) and for the change set (annotations kept
for download instead of written into `data/`). Permissions: `parley/access/policy.py`."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from parley.access.principal import Principal
from parley.studio import changeset, index
from parley.studio.analytics import day_start
from parley.studio.clusters import (
    DEFAULT_DISTANCE,
    DEFAULT_MIN_SIZE,
    MessageVectors,
    available_vectors,
    group_by_meaning,
    project_vectors,
)
from parley.studio.new_intent import (
    create_intent,
    domain_intents,
    name_problem,
    project_write_lock,
)
from parley.studio.nlu_files import NluFileError, known_intents
from parley.studio.routes import Caller, StudioRefused, client_ip, render_page
from parley.studio.service import Studio
from parley.studio.unhandled import MAX_MESSAGES, MessageKey, message_texts, unhandled_messages

MAX_PROMOTED = 1000


def discovery_router(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/studio", tags=["studio"], include_in_schema=False)
    vectorizer = MessageVectors()

    @router.get("/clusters")
    async def clusters(
        request: Request,
        caller: Caller,
        since: Annotated[str, Query(max_length=10)] = "",
        until: Annotated[str, Query(max_length=10)] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_MESSAGES)] = 2000,
        vectors: Annotated[str, Query(max_length=32)] = "",  # "": what the project's NLU uses
        distance: Annotated[float | None, Query(gt=0, lt=2)] = None,
        min_size: Annotated[int, Query(ge=2, le=1000)] = DEFAULT_MIN_SIZE,
    ) -> HTMLResponse:
        vectors = vectors or project_vectors(studio.project)
        if vectors not in available_vectors():
            raise StudioRefused(
                400, f"vectors={vectors!r}: choose one of {', '.join(available_vectors())}."
            )
        start, end = _period(since, until)
        await index.catch_up(studio.engine, studio.cipher)
        began = time.perf_counter()
        messages = await unhandled_messages(studio.engine, studio.cipher, start, end, limit)
        texts = [m.text for m in messages]
        threshold = DEFAULT_DISTANCE[vectors] if distance is None else distance
        points = await asyncio.to_thread(vectorizer.vectors, texts, vectors)
        grouping = await asyncio.to_thread(group_by_meaning, texts, points, threshold, min_size)
        return render_page(
            request,
            "clusters.html",
            caller,
            clusters=[[messages[i] for i in rows] for rows in grouping.clusters],
            other=[messages[i] for i in grouping.other],
            total=len(messages),
            handoffs=sum(1 for m in messages if m.reason == "handoff"),
            seconds=time.perf_counter() - began,
            since=since,
            until=until,
            limit=limit,
            vectors=vectors,
            choices=available_vectors(),
            distance=threshold,
            min_size=min_size,
        )

    @router.post("/clusters/promote")
    async def promote(
        request: Request,
        caller: Caller,
        intent: Annotated[str, Form(max_length=255)],
        messages: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
        to: Annotated[str, Form(pattern="^(files|changeset)$")] = "files",
    ) -> HTMLResponse:
        intent = intent.strip()
        if len(messages) > MAX_PROMOTED:
            return _refused(request, caller, f"At most {MAX_PROMOTED} messages at once.")
        try:
            keys = list(dict.fromkeys(MessageKey.parse(value) for value in messages))
        except ValueError as exc:
            return _refused(request, caller, str(exc))
        if not keys:
            return _refused(request, caller, "Choose at least one message to become an example.")
        problem = name_problem(studio.project, intent, await changeset.new_intents(studio.engine))
        if problem:
            return _refused(request, caller, problem[0].upper() + problem[1:] + ".")
        texts = await message_texts(studio.engine, studio.cipher, keys)
        gone = [key.form_value for key in keys if key not in texts]
        if gone:
            return _refused(request, caller, f"No user message {', '.join(gone)} in the store.")
        if to == "changeset":
            await changeset.keep(studio.engine, {k: [] for k in keys}, intent, True, caller.name)
            await _audit(request, caller, "nlu_changeset_add", intent, {"messages": len(keys)})
            message = f"Kept {len(keys)} messages as the new intent {intent} in the change set."
            return render_page(request, "_outcome.html", caller, message=message, link=True)
        try:
            with project_write_lock(studio.project):
                written = create_intent(studio.project, intent, [texts[key] for key in keys])
        except NluFileError as exc:
            return _refused(request, caller, str(exc))
        await changeset.record_decisions(
            studio.engine, keys, "promoted", intent, written.nlu_file, caller.name
        )
        await _audit(
            request,
            caller,
            "nlu_promote_cluster",
            intent,
            {"messages": len(keys), "file": written.nlu_file, "domain": written.domain_file},
        )
        message = (
            f"Created the intent {intent}: {len(keys)} examples in {written.nlu_file},"
            f" added to {written.domain_file}."
        )
        return render_page(request, "_outcome.html", caller, message=message)

    @router.get("/changeset")
    async def changeset_page(request: Request, caller: Caller) -> HTMLResponse:
        found = await changeset.entries(studio.engine, studio.cipher)
        return render_page(request, "changeset.html", caller, entries=found)

    @router.get("/changeset/download")
    async def download(request: Request, caller: Caller) -> Response:
        found = await changeset.entries(studio.engine, studio.cipher)
        await _audit(request, caller, "nlu_changeset_download", None, {"entries": len(found)})
        return Response(
            changeset.nlu_yaml(
                found, set(known_intents(studio.project)) | domain_intents(studio.project)
            ),
            media_type="application/yaml",
            headers={"Content-Disposition": 'attachment; filename="nlu_changeset.yml"'},
        )

    @router.post("/changeset/apply")
    async def apply(request: Request, caller: Caller) -> HTMLResponse:
        try:
            applied = await changeset.apply(
                studio.engine, studio.cipher, studio.project, caller.name
            )
        except NluFileError as exc:
            return _refused(request, caller, str(exc))
        await _audit(
            request,
            caller,
            "nlu_changeset_apply",
            None,
            {"examples": applied.examples, "files": sorted(applied.files),
             "created": applied.created, "missing": applied.missing},
        )  # fmt: skip
        written = ", ".join(f"{n} to {intent}" for intent, n in applied.examples.items())
        message = f"Applied: {written or 'nothing'}"
        if applied.created:
            message += f"; new intents {', '.join(applied.created)} added to the domain"
        if applied.missing:
            message += f"; {applied.missing} messages whose conversation was deleted were dropped"
        return render_page(request, "_outcome.html", caller, message=message + ".", emptied=True)

    @router.delete("/changeset")
    async def clear(request: Request, caller: Caller) -> HTMLResponse:
        cleared = await changeset.clear(studio.engine)
        await _audit(request, caller, "nlu_changeset_clear", None, {"entries": cleared})
        message = f"Cleared {cleared} entries."
        return render_page(request, "_outcome.html", caller, message=message, emptied=True)

    @router.delete("/changeset/{conversation_id}/{sequence}")
    async def take_back(
        request: Request, conversation_id: str, sequence: int, caller: Caller
    ) -> HTMLResponse:
        key = MessageKey(conversation_id, sequence)
        if not await changeset.take_back(studio.engine, key):
            raise StudioRefused(
                404, f"Message {sequence} of {conversation_id!r} is not in the change set."
            )
        await _audit(
            request, caller, "nlu_changeset_remove", conversation_id, {"sequence": sequence}
        )
        return HTMLResponse("")

    async def _audit(
        request: Request, caller: Principal, action: str, target: str | None, details: dict
    ) -> None:
        await studio.access.audit.record(
            caller.name, action, target=target, ip=client_ip(request), details=details
        )

    return router


def _refused(request: Request, caller: Principal, message: str) -> HTMLResponse:
    """A 400 as a fragment the buttons show in place (see `htmx-config` in clusters.html)."""
    return render_page(request, "_outcome.html", caller, 400, message=message, error=True)


def _period(since: str, until: str) -> tuple[float | None, float | None]:
    try:
        start = day_start(date.fromisoformat(since)) if since else None
        end = day_start(date.fromisoformat(until)) + 86400 if until else None
    except ValueError:
        raise StudioRefused(400, "Dates are written YYYY-MM-DD.") from None
    return start, end
