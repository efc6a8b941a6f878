"""The studio's pages (server-rendered with Jinja2; htmx for the buttons, vendored, no CDN).

Every route but the login page and the static files declares its permission in
`parley/access/policy.py` (`ROUTE_PERMISSIONS`) and is guarded by `route_permission`. Refusals
are rendered as pages: 401 shows the login form, 403 says which permission is missing.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from parley.access.dependencies import route_permission
from parley.access.principal import Principal
from parley.server.errors import ApiError
from parley.studio import changeset, index, queries, saved
from parley.studio.analytics import day_start, report
from parley.studio.charts import report_charts
from parley.studio.index import FALLBACK_INTENT
from parley.studio.new_intent import project_write_lock
from parley.studio.nlu_files import (
    NluFileError,
    add_example,
    known_entities,
    known_examples,
    known_intents,
    problems,
)
from parley.studio.service import Studio
from parley.studio.story import annotate as marked_text
from parley.studio.story import story_yaml
from parley.studio.transcript import TRANSCRIPT_PAGE, transcript, user_text
from parley.studio.unhandled import MessageKey
from parley.studio.values import ValueKeeper

HERE = Path(__file__).parent
STATIC = HERE / "static"
_STATIC_FILES = {"htmx.min.js", "studio.js", "studio.css", "htmx.LICENSE.txt"}
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M", time.gmtime(t or 0))
templates.env.filters["pct"] = lambda v: "" if v is None else f"{float(v):.2f}"


class StudioRefused(Exception):
    """A studio request without a session (401) or permission (403), shown as a page."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


async def _caller(request: Request) -> Principal:
    try:
        return await route_permission(request)
    except ApiError as exc:
        needed = exc.details.get("permission") if isinstance(exc.details, dict) else None
        message = f"{exc.message} This page needs {needed}." if needed else exc.message
        raise StudioRefused(exc.status, message) from None


Caller = Annotated[Principal, Depends(_caller)]


def render_page(
    request: Request, name: str, caller: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A studio page: the template with the caller, their permissions (`may`) and CSRF header."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "caller": caller,
            "may": (caller.permissions if caller else set()),
            "csrf": json.dumps({"X-CSRF-Token": caller.csrf_token or ""}) if caller else "{}",
            **context,
        },
        status_code=status,
    )


def client_ip(request: Request) -> str | None:
    """The caller's address, for the audit log."""
    return request.client.host if request.client else None


def install_studio(app: FastAPI, studio: Studio) -> None:
    """Serve the studio under /studio on `app`."""

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StudioRefused)
        if exc.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return render_page(request, "login.html", None, 401, next=target)
        return render_page(request, "error.html", None, exc.status, message=exc.message)

    app.add_exception_handler(StudioRefused, refused)
    app.include_router(studio_router(studio))
    from parley.studio.discovery_routes import discovery_router  # it builds on this module

    app.include_router(discovery_router(studio))
    if studio.share is not None:
        from parley.studio.share_routes import share_router

        app.state.share_enabled = True  # the navigation offers the page
        app.include_router(share_router(studio, studio.share))
    from parley.studio.training_routes import training_router  # it imports this module

    app.include_router(training_router(studio))


def studio_router(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/studio", tags=["studio"], include_in_schema=False)

    @router.get("/login")
    async def login_page(request: Request, next: str = "/studio") -> HTMLResponse:
        return render_page(
            request, "login.html", None, next=next if next.startswith("/studio") else "/studio"
        )

    @router.get("/static/{name}")
    async def static(name: str) -> FileResponse:
        if name not in _STATIC_FILES:
            raise ApiError(404, f"No studio file {name!r}.")
        return FileResponse(STATIC / name, headers={"Cache-Control": "max-age=3600"})

    @router.get("")
    async def home(request: Request, caller: Caller) -> HTMLResponse:
        return render_page(request, "home.html", caller)

    @router.get("/conversations")
    async def conversation_list(
        request: Request, caller: Caller, where: Annotated[queries.ConversationFilter, Query()]
    ) -> HTMLResponse:
        await index.catch_up(studio.engine, studio.cipher)
        page = await queries.list_conversations(studio.engine, where, ValueKeeper(studio.cipher))
        options = await queries.choices(studio.engine)
        saved_filters = await saved.visible(studio.engine, caller.name)
        args = {k: v for k, v in request.query_params.items() if k != "page"}
        return render_page(
            request,
            "conversations.html",
            caller,
            where=where,
            page=page,
            options=options,
            args=args,
            text_search=studio.cipher.key_id is None,
            saved_filters=saved_filters,
            current_query=where.query_string(),
        )

    @router.get("/conversations/{conversation_id}")
    async def conversation(
        request: Request, conversation_id: str, caller: Caller, page: int = Query(1, ge=1)
    ) -> HTMLResponse:
        lines, total = await transcript(studio.engine, studio.cipher, conversation_id, page)
        if total == 0:
            raise StudioRefused(404, f"No conversation {conversation_id!r}.")
        marks = await queries.marks(studio.engine, conversation_id)
        pages = max(1, -(-total // TRANSCRIPT_PAGE))
        return render_page(
            request,
            "conversation.html",
            caller,
            sender_id=conversation_id,
            lines=lines,
            marks=marks,
            page=page,
            pages=pages,
        )

    @router.post("/conversations/{conversation_id}/tags")
    async def add_tag(
        request: Request,
        conversation_id: str,
        caller: Caller,
        tag: Annotated[str, Form(min_length=1, max_length=64)],
    ) -> HTMLResponse:
        await _known(conversation_id)
        await queries.add_tag(studio.engine, conversation_id, tag.strip(), caller.name)
        return await _tags(request, conversation_id, caller)

    @router.delete("/conversations/{conversation_id}/tags/{tag}")
    async def remove_tag(
        request: Request, conversation_id: str, tag: str, caller: Caller
    ) -> HTMLResponse:
        await _known(conversation_id)
        await queries.remove_tag(studio.engine, conversation_id, tag)
        return await _tags(request, conversation_id, caller)

    async def _tags(request: Request, conversation_id: str, caller: Principal) -> HTMLResponse:
        marks = await queries.marks(studio.engine, conversation_id)
        return render_page(request, "_tags.html", caller, sender_id=conversation_id, marks=marks)

    @router.post("/conversations/{conversation_id}/review")
    async def review(
        request: Request,
        conversation_id: str,
        caller: Caller,
        reviewed: Annotated[bool, Form()] = True,
    ) -> HTMLResponse:
        await _known(conversation_id)
        await queries.set_reviewed(studio.engine, conversation_id, caller.name, reviewed)
        marks = await queries.marks(studio.engine, conversation_id)
        return render_page(request, "_review.html", caller, sender_id=conversation_id, marks=marks)

    @router.post("/conversations/{conversation_id}/flags/{sequence}")
    async def flag(
        request: Request,
        conversation_id: str,
        sequence: int,
        caller: Caller,
        on: Annotated[bool, Form()] = True,
    ) -> HTMLResponse:
        await _known(conversation_id)
        await queries.set_flag(studio.engine, conversation_id, sequence, caller.name, on)
        return render_page(
            request,
            "_flag.html",
            caller,
            sender_id=conversation_id,
            line={"sequence": sequence},
            flagged=on,
        )

    @router.delete("/conversations/{conversation_id}")
    async def delete(request: Request, conversation_id: str, caller: Caller) -> Response:
        deleted = await studio.delete_conversation(conversation_id)
        await studio.access.audit.record(
            caller.name,
            "conversation_delete",
            target=conversation_id,
            ip=client_ip(request),
            details={"via": "studio", "found": deleted},
        )
        if not deleted:
            raise StudioRefused(404, f"No conversation {conversation_id!r}.")
        return Response(status_code=200, headers={"HX-Redirect": "/studio/conversations"})

    @router.get("/conversations/{conversation_id}/export")
    async def export(request: Request, conversation_id: str, caller: Caller) -> JSONResponse:
        stored = await studio.store.load(conversation_id)
        if stored is None:
            raise StudioRefused(404, f"No conversation {conversation_id!r}.")
        await studio.access.audit.record(
            caller.name,
            "conversation_export",
            target=conversation_id,
            ip=client_ip(request),
            details={"via": "studio"},
        )
        return JSONResponse(
            {"sender_id": conversation_id, "events": stored},
            headers={
                "Content-Disposition": f'attachment; filename="{_safe(conversation_id)}.json"'
            },
        )

    @router.get("/conversations/{conversation_id}/story")
    async def story(request: Request, conversation_id: str, caller: Caller) -> Response:
        stored = await studio.store.load(conversation_id)
        if stored is None:
            raise StudioRefused(404, f"No conversation {conversation_id!r}.")
        await studio.access.audit.record(
            caller.name,
            "conversation_export",
            target=conversation_id,
            ip=client_ip(request),
            details={"via": "studio", "as": "test story"},
        )
        name = f"test_{_safe(conversation_id)}.yml"
        return Response(
            story_yaml(conversation_id, stored),
            media_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def _known(conversation_id: str) -> None:
        if not await studio.store.load(conversation_id):
            raise StudioRefused(404, f"No conversation {conversation_id!r}.")

    @router.get("/analytics")
    async def analytics(
        request: Request,
        caller: Caller,
        group: Annotated[str, Query(pattern="^(day|channel|model)$")] = "day",
        since: Annotated[str, Query(max_length=10)] = "",
        until: Annotated[str, Query(max_length=10)] = "",
    ) -> HTMLResponse:
        await index.catch_up(studio.engine, studio.cipher)
        try:
            start = day_start(date.fromisoformat(since)) if since else None
            end = day_start(date.fromisoformat(until)) + 86400 if until else None
        except ValueError:
            raise StudioRefused(400, "Dates are written YYYY-MM-DD.") from None
        result = await report(studio.engine, group, start, end)
        most = max((b.conversations for b in result.buckets), default=0)
        return render_page(
            request, "analytics.html", caller, report=result, most=most, since=since, until=until,
            plots=report_charts(result),
        )  # fmt: skip

    @router.get("/filters")
    async def saved_filters(request: Request, caller: Caller) -> HTMLResponse:
        return await _saved_filters(request, caller)

    @router.post("/filters")
    async def save_filter(
        request: Request,
        caller: Caller,
        name: Annotated[str, Form(min_length=1, max_length=100)],
        query: Annotated[str, Form(max_length=4000)] = "",
        shared: Annotated[bool, Form()] = False,
    ) -> HTMLResponse:
        try:
            await saved.save(studio.engine, caller.name, name, query, shared)
        except saved.SavedFilterError as exc:
            raise StudioRefused(400, str(exc)) from None
        return await _saved_filters(request, caller)

    @router.delete("/filters/{filter_id}")
    async def delete_filter(request: Request, filter_id: int, caller: Caller) -> HTMLResponse:
        found = await saved.find(studio.engine, filter_id, caller.name)
        if found is None:
            raise StudioRefused(404, f"No saved filter {filter_id}.")
        if not found.deletable_by(caller):
            raise StudioRefused(403, "Only its owner or an administrator deletes a shared filter.")
        await saved.remove(studio.engine, filter_id)
        return await _saved_filters(request, caller)

    async def _saved_filters(request: Request, caller: Principal) -> HTMLResponse:
        found = await saved.visible(studio.engine, caller.name)
        return render_page(request, "_saved_filters.html", caller, saved_filters=found)

    @router.get("/inbox")
    async def inbox(
        request: Request,
        caller: Caller,
        threshold: Annotated[float | None, Query(ge=0, le=1)] = None,
    ) -> HTMLResponse:
        await index.catch_up(studio.engine, studio.cipher)
        limit = studio.threshold if threshold is None else threshold
        known = known_examples(studio.project)
        groups: dict[str, list[queries.InboxItem]] = {}
        for sender, sequence, _row, intent, confidence, flagged in await queries.inbox_candidates(
            studio.engine, limit
        ):
            text = await user_text(studio.engine, studio.cipher, sender, sequence) or ""
            item = queries.InboxItem(
                sender,
                sequence,
                intent,
                confidence,
                text,
                flagged,
                problems(text, intent or "", known),
            )
            groups.setdefault(intent or "(none)", []).append(item)
        return render_page(
            request,
            "inbox.html",
            caller,
            groups=groups,
            threshold=limit,
            intents=known_intents(studio.project),
            entities=known_entities(studio.project),
        )

    @router.post("/inbox/{conversation_id}/{sequence}")
    async def annotate(
        request: Request,
        conversation_id: str,
        sequence: int,
        caller: Caller,
        decision: Annotated[str, Form(pattern="^(accept|correct|discard)$")],
        intent: Annotated[str, Form(max_length=255)] = "",
        suggested: Annotated[str, Form(max_length=255)] = "",
        entities: Annotated[str, Form(max_length=20_000)] = "[]",
        confirm: Annotated[bool, Form()] = False,
        to: Annotated[str, Form(pattern="^(files|changeset)$")] = "files",
    ) -> HTMLResponse:
        text = await user_text(studio.engine, studio.cipher, conversation_id, sequence)
        if text is None:
            raise StudioRefused(404, f"No user message {sequence} in {conversation_id!r}.")
        intent = (suggested if decision == "accept" else intent).strip()
        if decision == "discard":
            await queries.decide(
                studio.engine, conversation_id, sequence, "discarded", None, None, caller.name
            )
            return render_page(request, "_decided.html", caller, message="Discarded.")
        if not intent or intent == FALLBACK_INTENT:  # nlu_fallback is no intent to train
            raise StudioRefused(400, "Choose the intent this message belongs to.")
        found = problems(text, intent, known_examples(studio.project))
        if found and not confirm:
            item = queries.InboxItem(conversation_id, sequence, intent, None, text, False, found)
            return render_page(request, "_confirm.html", caller, item=item, decision=decision)
        marks = _entities(entities, text)
        if to == "changeset":
            return await _keep(request, caller, conversation_id, sequence, intent, marks)
        try:
            with project_write_lock(studio.project):
                path = add_example(studio.project, intent, marked_text(text, marks))
        except NluFileError as exc:
            raise StudioRefused(400, str(exc)) from None
        relative = str(path.relative_to(studio.project))
        await queries.decide(
            studio.engine,
            conversation_id,
            sequence,
            "accepted" if decision == "accept" else "corrected",
            intent,
            relative,
            caller.name,
        )
        await studio.access.audit.record(
            caller.name,
            "nlu_annotate",
            target=conversation_id,
            ip=client_ip(request),
            details={"sequence": sequence, "intent": intent, "file": relative},
        )
        return render_page(
            request, "_decided.html", caller, message=f"Saved as {intent} in {relative}."
        )

    async def _keep(
        request: Request,
        caller: Principal,
        conversation_id: str,
        sequence: int,
        intent: str,
        marks: list[dict[str, Any]],
    ) -> HTMLResponse:
        """Keep an annotation in the change set rather than writing it into data/."""
        key = MessageKey(conversation_id, sequence)
        await changeset.keep(studio.engine, {key: marks}, intent, False, caller.name)
        await studio.access.audit.record(
            caller.name,
            "nlu_changeset_add",
            target=conversation_id,
            ip=client_ip(request),
            details={"sequence": sequence, "intent": intent},
        )
        return render_page(
            request, "_decided.html", caller, message=f"Kept as {intent} in the change set."
        )

    return router


def _entities(sent: str, text: str) -> list[dict[str, Any]]:
    """The entities an annotator marked: [{"entity", "start", "end"}] within `text`."""
    try:
        marked = json.loads(sent or "[]")
    except ValueError:
        raise StudioRefused(400, "entities: not JSON.") from None
    found = []
    for item in marked if isinstance(marked, list) else [None]:
        entity = item.get("entity") if isinstance(item, dict) else None
        start, end = (item.get("start"), item.get("end")) if isinstance(item, dict) else (0, 0)
        if not (isinstance(entity, str) and entity) or not (
            isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
        ):
            raise StudioRefused(
                400,
                f"entities: {item!r} is not an entity of the message "
                "(entity, start, end within the text).",
            )
        found.append({"entity": entity, "start": start, "end": end})
    return found


def _safe(name: str) -> str:
    return (
        "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:100] or "conversation"
    )
