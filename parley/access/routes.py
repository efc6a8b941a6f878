"""HTTP routes of access control: login/logout, own API tokens, users, roles and the audit log.

Every guarded route takes its permission from `policy.ROUTE_PERMISSIONS` (`route_permission`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from parley.access.audit import AuditFilter
from parley.access.dependencies import route_permission
from parley.access.errors import AccessConfigError, LoginFailed
from parley.access.principal import Principal
from parley.access.service import Access, LoginResult
from parley.server.errors import ApiError

Caller = Annotated[Principal, Depends(route_permission)]
CSRF_COOKIE = "parley_csrf"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=16)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=255)
    role: str
    password: str | None = Field(default=None, max_length=1024)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1024)


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(default_factory=list)
    expires_in_days: float | None = Field(default=90, gt=0, le=3650)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def cookie_secure(access: Access, request: Request) -> bool:
    """Secure cookies when configured so, else when the request came over TLS."""
    configured = access.settings.session.secure
    return configured if configured is not None else request.url.scheme == "https"


def set_session_cookies(
    access: Access, request: Request, response: Response, result: LoginResult
) -> None:
    """The session cookie (HttpOnly) and the CSRF cookie a page script may read."""
    settings = access.settings.session
    secure = cookie_secure(access, request)
    max_age = int(result.session.expires_at - time.time())
    response.set_cookie(settings.cookie_name, result.cookie, max_age=max_age, httponly=True,
                        secure=secure, samesite="lax", path="/")  # fmt: skip
    response.set_cookie(CSRF_COOKIE, result.session.csrf_token, max_age=max_age, httponly=False,
                        secure=secure, samesite="strict", path="/")  # fmt: skip


def session_body(access: Access, result: LoginResult) -> dict[str, Any]:
    return {
        "username": result.user.username,
        "role": result.user.role,
        "permissions": sorted(access.roles.permissions(result.user.role)),
        "csrf_token": result.session.csrf_token,
        "expires_at": result.session.expires_at,
    }


def _clear_cookies(access: Access, response: Response) -> None:
    response.delete_cookie(access.settings.session.cookie_name, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def access_router(access: Access) -> APIRouter:
    """Login, logout, tokens, users, roles and audit routes bound to `access`."""
    router = APIRouter(tags=["access"])

    @router.post("/auth/login", summary="Log in with a username and password (local or LDAP)")
    async def login(body: LoginRequest, request: Request, response: Response) -> dict[str, Any]:
        try:
            result = await access.login(body.username, body.password, body.totp, _ip(request))
        except LoginFailed as exc:
            raise ApiError(401, str(exc)) from None
        set_session_cookies(access, request, response, result)
        return session_body(access, result)

    @router.get("/auth/me", summary="The caller and their permissions")
    async def me(caller: Caller) -> dict[str, Any]:
        return {
            "username": caller.name,
            "role": caller.role,
            "via": caller.via,
            "permissions": sorted(caller.permissions),
            "csrf_token": caller.csrf_token,
        }

    @router.post("/auth/logout", summary="End this session")
    async def logout(caller: Caller, request: Request, response: Response) -> dict[str, Any]:
        cookie = request.cookies.get(access.settings.session.cookie_name)
        ended = bool(cookie) and await access.sessions.end(cookie or "")
        await access.audit.record(caller.name, "logout", ip=_ip(request))
        _clear_cookies(access, response)
        return {"ended": int(ended)}

    @router.post("/auth/logout-all", summary="End every session of the caller")
    async def logout_all(caller: Caller, request: Request, response: Response) -> dict[str, Any]:
        ended = await access.logout_everywhere(caller.name, caller.name, _ip(request))
        _clear_cookies(access, response)
        return {"ended": ended}

    @router.get("/auth/tokens", summary="The caller's API tokens")
    async def my_tokens(caller: Caller) -> list[dict[str, Any]]:
        return [token.public() for token in await access.tokens.list(caller.name)]

    @router.post("/auth/tokens", status_code=201, summary="Create an API token (shown once)")
    async def create_token(body: NewToken, caller: Caller, request: Request) -> dict[str, Any]:
        if caller.via not in ("session", "api_token"):
            raise ApiError(400, "API tokens belong to users: log in as one to create a token.")
        expires = time.time() + body.expires_in_days * 86400 if body.expires_in_days else None
        try:
            text, token = await access.create_token(
                caller.name, caller.name, body.name, body.scopes, expires, _ip(request)
            )
        except AccessConfigError as exc:
            raise ApiError(400, str(exc)) from None
        return {**token.public(), "token": text}

    @router.delete("/auth/tokens/{token_id}", summary="Revoke an API token")
    async def revoke_token(token_id: str, caller: Caller, request: Request) -> dict[str, Any]:
        token = await access.tokens.get(token_id)
        if token is None or (
            token.username != caller.name and "users:manage" not in caller.permissions
        ):
            raise ApiError(404, f"No token {token_id!r} of yours.")
        return {"revoked": await access.revoke_token(caller.name, token_id, _ip(request))}

    @router.get("/admin/roles", summary="Roles and their permissions")
    async def roles(caller: Caller) -> dict[str, list[str]]:
        return {name: sorted(perms) for name, perms in sorted(access.roles.roles.items())}

    @router.get("/admin/users", summary="Every user")
    async def users(caller: Caller) -> list[dict[str, Any]]:
        return [user.public() for user in await access.users.list()]

    @router.post("/admin/users", status_code=201, summary="Create a local user")
    async def create_user(body: NewUser, caller: Caller, request: Request) -> dict[str, Any]:
        try:
            user = await access.create_user(
                caller.name, body.username, body.role, body.password, _ip(request)
            )
        except AccessConfigError as exc:
            raise ApiError(400, str(exc)) from None
        return user.public()

    @router.patch("/admin/users/{username}", summary="Change a user's role, state or password")
    async def change_user(
        username: str, body: UserChange, caller: Caller, request: Request
    ) -> dict[str, Any]:
        try:
            if body.role is not None:
                await access.set_role(caller.name, username, body.role, _ip(request))
            if body.disabled is not None:
                await access.set_disabled(caller.name, username, body.disabled, _ip(request))
            if body.password is not None:
                await access.set_password(caller.name, username, body.password, _ip(request))
        except AccessConfigError as exc:
            raise ApiError(400, str(exc)) from None
        user = await access.users.get(username)
        assert user is not None
        return user.public()

    @router.delete("/admin/users/{username}", summary="Delete a user, their sessions and tokens")
    async def delete_user(username: str, caller: Caller, request: Request) -> dict[str, Any]:
        try:
            await access.delete_user(caller.name, username, _ip(request))
        except AccessConfigError as exc:
            raise ApiError(404, str(exc)) from None
        return {"deleted": username}

    @router.delete("/admin/users/{username}/sessions", summary="Log a user out everywhere")
    async def end_sessions(username: str, caller: Caller, request: Request) -> dict[str, Any]:
        return {"ended": await access.logout_everywhere(caller.name, username, _ip(request))}

    @router.get("/admin/audit", summary="Audit log rows, newest first")
    async def audit(
        caller: Caller,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        result: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        where = AuditFilter(actor, action, target, result, since, until, limit)
        return [entry.public() for entry in await access.audit.query(where)]

    if access.oidc is not None:
        from parley.access.sso.routes import oidc_router

        router.include_router(oidc_router(access, access.oidc))
    if access.saml is not None:
        from parley.access.sso.routes import saml_router

        router.include_router(saml_router(access, access.saml))
    return router
