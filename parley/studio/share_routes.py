"""Guest links in the studio (`/studio/share`, permission share:create) and the guest chat they
open (`/share/<token>`, public but token-checked; see `parley.studio.share`).

The guest chat is the web chat widget talking to `POST /share/<token>/webhook`: the same checks
and metrics as the REST channel (`ChannelContext.handle`, channel `share`), answered by the link's
model version. The sender id in the body is ignored: the server makes one per guest and keeps it
in a sealed cookie. An expired or revoked link answers 410 to the page and to every message.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from parley.access.principal import Principal
from parley.access.routes import cookie_secure
from parley.access.signed import seal, unseal
from parley.ids import random_id
from parley.server.channels.base import parse_user_body
from parley.server.channels.rest import read_json
from parley.server.errors import ApiError
from parley.server.webchat import HEADERS, chat_assets, chat_page
from parley.studio.routes import Caller, StudioRefused, client_ip, render_page, templates
from parley.studio.service import Studio
from parley.studio.share import (
    ACTIVE,
    EXPIRED,
    ShareError,
    ShareLink,
    ShareNameTaken,
    Sharing,
    guest_sender,
)

logger = logging.getLogger(__name__)

CHANNEL = "share"  # the input channel of guest messages, and their metrics label
_GUEST_PURPOSE = "share-guest"
_GUEST_HEADERS = {**HEADERS, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
DAY = 86400.0


def share_router(studio: Studio, sharing: Sharing) -> APIRouter:
    """The studio's share page and the guest chat's routes."""
    router = APIRouter(include_in_schema=False)
    assets = chat_assets()

    async def section(
        request: Request, caller: Principal, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        """The share page (`whole`) or its section: the form, a result, every link."""
        rows = [
            {
                "link": link,
                "state": link.state(),
                "conversations": await sharing.links.conversations(link.link_id),
            }
            for link in await sharing.links.list()
        ]
        settings = sharing.settings
        form = {"name": "", "version": "", "days": settings.default_days}
        form.update(extra.pop("form", {}))
        name = "share.html" if extra.pop("whole", False) else "_share.html"
        return render_page(
            request,
            name,
            caller,
            status,
            links=rows,
            versions=await _version_choices(sharing),
            max_days=settings.max_days,
            form=form,
            **extra,
        )

    @router.get("/studio/share")
    async def share_page(request: Request, caller: Caller) -> HTMLResponse:
        return await section(request, caller, whole=True)

    @router.post("/studio/share")
    async def create_link(
        request: Request,
        caller: Caller,
        name: Annotated[str, Form(max_length=200)],
        version: Annotated[str, Form(max_length=128)] = "",
        days: Annotated[float | None, Form()] = None,
    ) -> HTMLResponse:
        form = {"name": name, "version": version, "days": days}
        days = sharing.settings.default_days if days is None else days
        if not 0 < days <= sharing.settings.max_days:
            message = (
                f"A link expires after more than 0 and at most {sharing.settings.max_days:g} days."
            )
            return await section(request, caller, 400, form=form, error=message)
        pinned = version or None
        if pinned is not None and pinned not in {v for v, _ in await _version_choices(sharing)}:
            message = f"No registered model version {version!r} (see `parley models list`)."
            return await section(request, caller, 400, form=form, error=message)
        try:
            token, link = await sharing.links.create(
                name, pinned, time.time() + days * DAY, caller.name
            )
        except ShareError as exc:
            status = 409 if isinstance(exc, ShareNameTaken) else 400
            return await section(request, caller, status, form=form, error=str(exc))
        await studio.access.audit.record(
            caller.name,
            "share_create",
            target=link.name,
            ip=client_ip(request),
            details={
                "link_id": link.link_id,
                "model_version": link.model_version,
                "expires_at": link.expires_at,
            },
        )
        url = f"{str(request.base_url).rstrip('/')}/share/{token}"
        return await section(request, caller, 201, created=link, created_url=url)

    @router.post("/studio/share/{link_id}/revoke")
    async def revoke_link(request: Request, link_id: str, caller: Caller) -> HTMLResponse:
        link = await sharing.links.get(link_id)
        if link is None:
            raise StudioRefused(404, f"No guest link {link_id!r}.")
        revoked = await sharing.links.revoke(link_id, caller.name)
        await studio.access.audit.record(
            caller.name,
            "share_revoke",
            target=link.name,
            ip=client_ip(request),
            details={"link_id": link_id, "already_revoked": not revoked},
        )
        return await section(request, caller)

    @router.get("/share/static/{name}")
    async def guest_asset(name: str) -> Response:
        if name not in assets:
            return Response(b"not found", status_code=404, media_type="text/plain")
        return assets[name]

    @router.get("/share/{token}")
    async def guest_page(request: Request, token: str) -> Response:
        link = await sharing.links.find(token)
        refusal = _refusal(link)
        if refusal is not None or link is None:
            status, message = refusal or (404, "")
            return templates.TemplateResponse(
                request, "share_gone.html", {"message": message}, status_code=status
            )
        config = {"socketio_path": None, "rest_url": f"/share/{token}/webhook"}
        response = Response(
            chat_page(config, "/share/static"),
            media_type="text/html; charset=utf-8",
            headers=_GUEST_HEADERS,
        )
        if _guest(request, sharing.key, link) is None:
            _set_guest(request, response, studio, sharing.key, link, random_id())
        return response

    @router.post("/share/{token}/webhook")
    async def guest_message(request: Request, token: str) -> Response:
        link = await sharing.links.find(token)
        refusal = _refusal(link)
        if refusal is not None or link is None:
            raise ApiError(*(refusal or (404, "")))
        try:
            _ignored_sender, text, _ = parse_user_body(await read_json(request))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        known = _guest(request, sharing.key, link)
        guest = known or random_id()  # a caller that skipped the page gets one now
        sender_id = guest_sender(link.link_id, guest)
        try:
            agent = await sharing.agents.agent(link.model_version)
        except Exception:
            logger.exception("guest link %s: cannot load model %s", link.name, link.model_version)
            raise ApiError(
                503, "The model of this link cannot be loaded; try again later."
            ) from None
        messages = await sharing.context.handle(
            CHANNEL, sender_id, text, {"share_link": link.name}, agent=agent
        )
        await sharing.links.tag(sender_id, link)
        response = Response(
            orjson.dumps(messages, default=str),
            media_type="application/json",
            headers=_GUEST_HEADERS,
        )
        if known is None:
            _set_guest(request, response, studio, sharing.key, link, guest)
        return response

    return router


def _refusal(link: ShareLink | None) -> tuple[int, str] | None:
    """(status, message) for a link that cannot be used, None for an active one."""
    if link is None:
        return 404, "This link does not exist. Ask whoever shared it for a new one."
    state = link.state()
    if state == ACTIVE:
        return None
    if state == EXPIRED:
        return 410, "This link has expired. Ask whoever shared it for a new one."
    return 410, "This link was revoked. Ask whoever shared it for a new one."


def _cookie_name(link: ShareLink) -> str:
    return f"parley_guest_{link.link_id}"


def _guest(request: Request, key: bytes, link: ShareLink) -> str | None:
    """The guest id the caller's cookie holds for this link (sealed by us), or None."""
    value = request.cookies.get(_cookie_name(link))
    payload = unseal(key, _GUEST_PURPOSE, value) if value else None
    if payload is None or payload.get("link") != link.link_id:
        return None
    guest = payload.get("guest")
    return guest if isinstance(guest, str) else None


def _set_guest(
    request: Request,
    response: Response,
    studio: Studio,
    key: bytes,
    link: ShareLink,
    guest: str,
) -> None:
    """Keep `guest` as the caller's guest id for this link, until the link expires."""
    ttl = max(link.expires_at - time.time(), 1.0)
    response.set_cookie(
        _cookie_name(link),
        seal(key, _GUEST_PURPOSE, {"link": link.link_id, "guest": guest}, ttl),
        max_age=int(ttl),
        httponly=True,
        secure=cookie_secure(studio.access, request),
        samesite="lax",  # sent when the guest opens the link again from a mail or chat
        path="/share/",
    )


async def _version_choices(sharing: Sharing) -> list[tuple[str, str]]:
    """(value, label) of the models a link can pin: the served one, then registered versions."""
    served = sharing.agents.holder.agent.model_id or "unknown"
    choices = [("", f"the served model ({served}, follows releases)")]
    try:
        versions = await sharing.agents.versions()
    except Exception:
        logger.exception("cannot list the registered model versions")
        return choices
    for version in versions:
        tags = f" [{', '.join(version.tags)}]" if version.tags else ""
        choices.append((version.version, f"{version.version}{tags}"))
    return choices
