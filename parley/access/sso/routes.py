"""HTTP routes of the SSO logins: OIDC redirect and callback; SAML login, ACS and metadata."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from parley.access.errors import LoginFailed
from parley.access.replay import first_use
from parley.access.routes import cookie_secure, set_session_cookies
from parley.access.service import Access, LoginResult
from parley.access.signed import seal, unseal
from parley.access.sso.oidc import LOGIN_TTL, OidcClient
from parley.access.sso.saml import SamlServiceProvider

logger = logging.getLogger(__name__)

OIDC_COOKIE = "parley_oidc"
OIDC_PATH = "/auth/oidc"


def safe_next(target: str | None) -> str:
    """Where to send the browser after login: a path on this server only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def logged_in(
    access: Access, request: Request, result: LoginResult, target: str
) -> RedirectResponse:

    response = RedirectResponse(safe_next(target), status_code=303)
    set_session_cookies(access, request, response, result)
    return response


def oidc_router(access: Access, client: OidcClient) -> APIRouter:
    router = APIRouter(tags=["access"])

    @router.get(f"{OIDC_PATH}/login", summary="Sign in through the OpenID Provider")
    async def oidc_login(request: Request, next: str = "/") -> RedirectResponse:
        from parley.server.errors import ApiError

        try:
            url, pending = await client.start()
        except LoginFailed as exc:
            raise ApiError(502, str(exc)) from None
        response = RedirectResponse(url, status_code=302)
        state = seal(access.key, "oidc", {**pending, "next": safe_next(next)}, LOGIN_TTL)
        response.set_cookie(OIDC_COOKIE, state, max_age=int(LOGIN_TTL), httponly=True,
                            secure=cookie_secure(access, request), samesite="lax", path=OIDC_PATH)  # fmt: skip
        return response

    @router.get(f"{OIDC_PATH}/callback", summary="Where the OpenID Provider sends the browser back")
    async def oidc_callback(request: Request) -> RedirectResponse:
        from parley.server.errors import ApiError

        pending = unseal(access.key, "oidc", request.cookies.get(OIDC_COOKIE, ""))
        try:
            if pending is None:
                raise LoginFailed("this login was not started here or took too long; try again")
            if not await first_use(access.engine, "oidc:" + pending["state"], pending["exp"]):
                raise LoginFailed("this login response was already used")
            identity = await client.finish(dict(request.query_params), pending)
            result = await access.sso_login(identity, _ip(request))
        except LoginFailed as exc:
            await access.sso_failed("oidc", str(exc), _ip(request))
            raise ApiError(401, str(exc)) from None
        response = logged_in(access, request, result, pending["next"])
        response.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
        return response

    return router


def saml_router(access: Access, sp: SamlServiceProvider) -> APIRouter:
    router = APIRouter(tags=["access"])

    @router.get("/auth/saml/metadata", summary="This service provider's SAML metadata")
    async def saml_metadata() -> Response:
        return Response(sp.metadata_xml(), media_type="application/samlmetadata+xml")

    @router.get("/auth/saml/login", summary="Sign in through the SAML identity provider")
    async def saml_login(next: str = "/") -> RedirectResponse:
        # The request id rides in the signed RelayState: the IdP's cross-site POST back
        # carries no SameSite cookie.
        request_id = "id-" + secrets.token_hex(16)  # an XML ID: starts with a letter
        relay = seal(access.key, "saml", {"next": safe_next(next), "rid": request_id}, LOGIN_TTL)
        return RedirectResponse(sp.start(request_id, relay), status_code=302)

    @router.post("/auth/saml/acs", summary="Where the SAML identity provider posts its response")
    async def saml_acs(request: Request) -> RedirectResponse:
        from parley.server.errors import ApiError

        form = await request.form()
        relay = unseal(access.key, "saml", str(form.get("RelayState") or ""))
        try:
            if relay is None:
                raise LoginFailed("this login was not started here or took too long; try again")
            identity, assertion_id, keep_until = await sp.finish(
                str(form.get("SAMLResponse") or ""), relay["rid"]
            )
            if not await first_use(access.engine, "saml:" + assertion_id, keep_until):
                raise LoginFailed("this SAML assertion was already used")
            result = await access.sso_login(identity, _ip(request))
        except LoginFailed as exc:
            await access.sso_failed("saml", str(exc), _ip(request))
            raise ApiError(401, str(exc)) from None
        return logged_in(access, request, result, relay["next"])

    return router
