"""Who may call the HTTP API: Rasa's `--auth-token` and JWT with `user`/`admin` roles.

- A token (`?token=...`, or `Authorization: Bearer <token>`) grants the admin role.
- A JWT (`Authorization: Bearer <jwt>`) carries `{"user": {"username": ..., "role": ...}}`:
  `admin` reaches everything, `user` only the conversation whose id is its username.
- With neither configured the API is open (as in Rasa); `parley run` warns about it (see
  `open_api_warning`): loudly when it listens beyond this machine, and on loopback too, since
  every local user and process (and a browser page that reaches 127.0.0.1) may then use it.
Channel webhooks do not use this: each channel authenticates as its platform requires.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from parley.security.settings import is_loopback
from parley.server.config import ServerConfig
from parley.server.errors import ApiError

logger = logging.getLogger(__name__)

Role = Literal["admin", "user", "anonymous"]
NOT_AUTHENTICATED = "User is not authenticated."
NOT_AUTHORIZED = "User has insufficient permission."


@dataclass(frozen=True)
class Principal:
    """The caller as the auth check saw it."""

    role: Role
    username: str | None = None


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
        return Principal("admin", str(username) if username is not None else None)
    if role == "user" and isinstance(username, str) and username:
        return Principal("user", username)
    return None


def authenticate(request: Request, config: ServerConfig) -> Principal:
    """The caller's identity; raises ApiError(401) when auth is on and nothing valid was sent."""
    if not config.auth_enabled:
        return Principal("anonymous")
    bearer = _bearer(request)
    if config.auth_token and (
        _token_matches(request.query_params.get("token"), config.auth_token)
        or _token_matches(bearer, config.auth_token)
    ):
        return Principal("admin")
    if config.jwt_secret and bearer:
        principal = _from_jwt(bearer, config)
        if principal is not None:
            return principal
    raise ApiError(401, NOT_AUTHENTICATED, details={"hint": "send ?token= or a Bearer JWT"})


def authorize(principal: Principal, conversation_id: str | None, admin_only: bool = False) -> None:
    """Raise ApiError(403) unless the caller may act on this conversation (or route)."""
    if principal.role in ("admin", "anonymous"):
        return
    if not admin_only and conversation_id is not None and principal.username == conversation_id:
        return
    raise ApiError(403, NOT_AUTHORIZED)


class RequireAuth:
    """FastAPI dependency: authenticate, then check the `conversation_id` path parameter."""

    def __init__(self, config: ServerConfig, admin_only: bool = False) -> None:
        self.config = config
        self.admin_only = admin_only

    async def __call__(self, request: Request) -> Principal:
        principal = authenticate(request, self.config)
        authorize(principal, request.path_params.get("conversation_id"), self.admin_only)
        return principal


def open_api_warning(config: ServerConfig, host: str) -> str | None:
    """The warning `parley run` logs when the HTTP API is served without authentication on
    `host`; None when the API is off or authenticated."""
    if not config.enable_api or config.auth_enabled:
        return None
    if is_loopback(host):
        return (
            f"the HTTP API is enabled without --auth-token or --jwt-secret on {host}: any user "
            "or process of this machine can read and change conversations and swap the model"
        )
    return (
        f"the HTTP API is enabled without --auth-token or --jwt-secret on {host}: anyone who "
        "can reach this port can read and change conversations and swap the model"
    )
