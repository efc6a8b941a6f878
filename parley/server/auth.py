"""Who may call the HTTP API: Rasa's `--auth-token` and JWT, plus Parley's users (access).

- A token (`?token=...`, or `Authorization: Bearer <token>`) is the `admin` role.
- A JWT (`Authorization: Bearer <jwt>`) carries `{"user": {"username": ..., "role": ...}}`:
  `admin` is the admin role, `user` may read and write only the conversation named after it.
- With `access:` in parley.yml, a session cookie (browser) or an API token (`pat_...`) works too,
  with the permissions of the user's role; without any of them configured the API is open.
- `parley run` warns when the API is served open (`open_api_warning`): loudly beyond this
  machine, and on loopback too, since every local user and process may then use it.
Channel webhooks do not use this: each channel authenticates as its platform requires.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from fastapi import Request

from parley.access.permissions import PERMISSIONS
from parley.access.principal import Principal
from parley.access.tokens import looks_like_token
from parley.security.settings import is_loopback
from parley.server.config import ServerConfig
from parley.server.errors import ApiError

if TYPE_CHECKING:
    from parley.access.service import Access

logger = logging.getLogger(__name__)

NOT_AUTHENTICATED = "User is not authenticated."
NOT_AUTHORIZED = "User has insufficient permission."
CSRF_HEADER = "x-csrf-token"
# What a legacy JWT `user` may do, on its own conversation only (as in Rasa).
JWT_USER_PERMISSIONS = frozenset({"conversations:read", "conversations:write"})
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _token_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _from_jwt(encoded: str, config: ServerConfig) -> Principal | None:
    assert config.jwt_secret is not None
    import jwt  # loaded by servers that accept JWTs

    try:
        payload = jwt.decode(encoded, config.jwt_secret, algorithms=[config.jwt_method])
    except jwt.PyJWTError as exc:
        logger.info("rejected a JWT: %s", type(exc).__name__)
        return None
    user = payload.get("user") if isinstance(payload, dict) else None
    if not isinstance(user, dict):
        return None
    role = user.get("role")
    username = user.get("username")
    if role == "admin":
        return Principal(str(username or "jwt-admin"), "admin", PERMISSIONS, "jwt")
    if role == "user" and isinstance(username, str) and username:
        return Principal(username, "user", JWT_USER_PERMISSIONS, "jwt", only_conversation=username)
    return None


def legacy_principal(request: Request, config: ServerConfig) -> Principal | None:
    """The caller by Rasa's `--auth-token` or JWT; None when neither matches."""
    bearer = _bearer(request)
    if config.auth_token and (
        _token_matches(request.query_params.get("token"), config.auth_token)
        or _token_matches(bearer, config.auth_token)
    ):
        return Principal("auth-token", "admin", PERMISSIONS, "auth_token")
    if config.jwt_secret and bearer and not looks_like_token(bearer):
        return _from_jwt(bearer, config)
    return None


class Gatekeeper:
    """Authenticates a request (401) and checks a permission (403). One per app, found by the
    route dependencies in `app.state.gatekeeper`."""

    def __init__(self, config: ServerConfig, access: Access | None = None) -> None:
        self.config = config
        self.access = access

    @property
    def open(self) -> bool:
        """No credential of any kind is configured: everyone is admin (Rasa's default)."""
        return self.access is None and not self.config.auth_enabled

    async def authenticate(self, request: Request) -> Principal:
        cached = getattr(request.state, "principal", None)
        if isinstance(cached, Principal):
            return cached
        principal = await self._identify(request)
        request.state.principal = principal
        return principal

    async def _identify(self, request: Request) -> Principal:
        if self.open:
            return Principal("anonymous", "admin", PERMISSIONS, "open")
        principal = legacy_principal(request, self.config)
        if principal is not None:
            return principal
        if self.access is not None:
            bearer = _bearer(request)
            if bearer and looks_like_token(bearer):
                principal = await self.access.token_principal(bearer)
            cookie = request.cookies.get(self.access.settings.session.cookie_name)
            if principal is None and cookie and not bearer:
                principal = await self.access.session_principal(cookie)
                if principal is not None:
                    self._check_csrf(request, principal)
            if principal is not None:
                return principal
        raise ApiError(
            401, NOT_AUTHENTICATED, details={"hint": "log in, or send an API token or ?token="}
        )

    @staticmethod
    def _check_csrf(request: Request, principal: Principal) -> None:
        """A cookie comes with every request a browser sends, even a forged cross-site one: a
        state change must also echo the session's CSRF token in a header."""
        if request.method in _SAFE_METHODS:
            return
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise ApiError(403, "Missing or wrong CSRF token.",
                           details={"hint": f"send the session's csrf_token in {CSRF_HEADER}"})  # fmt: skip

    async def authorize(self, request: Request, principal: Principal, permission: str) -> None:
        if principal.allows(permission, request.path_params.get("conversation_id")):
            return
        if self.access is not None:
            await self.access.audit.record(
                principal.name, "access_denied", target=f"{request.method} {request.url.path}",
                result="denied", ip=client_ip(request), details={"permission": permission},
            )  # fmt: skip
        raise ApiError(403, NOT_AUTHORIZED, details={"permission": permission})


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def audit(
    request: Request, action: str, target: str | None, details: dict[str, object] | None = None
) -> None:
    """Record what the authenticated caller of `request` did (when access control is on)."""
    gate: Gatekeeper = request.app.state.gatekeeper
    if gate.access is None:
        return
    principal = await gate.authenticate(request)
    await gate.access.audit.record(
        principal.name, action, target=target, ip=client_ip(request), details=details
    )


def open_api_warning(
    config: ServerConfig, host: str, access_configured: bool = False
) -> str | None:
    """The warning `parley run` logs when the HTTP API is served without authentication on
    `host`; None when the API is off or guarded (a token, a JWT secret or `access:` logins)."""
    if not config.enable_api or config.auth_enabled or access_configured:
        return None
    how = "--auth-token, --jwt-secret or `access:` in parley.yml"
    if is_loopback(host):
        return (
            f"the HTTP API is enabled without {how} on {host}: any user or process of this "
            "machine can read and change conversations and swap the model"
        )
    return (
        f"the HTTP API is enabled without {how} on {host}: anyone who can reach this port can "
        "read and change conversations and swap the model"
    )
