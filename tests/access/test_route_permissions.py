"""Every guarded route, called as every role, with no session and with an expired one.

A route added to the app without an entry in `policy.ROUTE_PERMISSIONS` makes `create_app` fail;
one added to the table without a sample request here fails `test_every_guarded_route_is_sampled`.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter

from parley.access.permissions import BUILTIN_ROLES
from parley.access.policy import AUTHENTICATED, ROUTE_PERMISSIONS, is_public
from parley.access.service import Access
from parley.server import ParleyServer
from parley.server.app import _refuse_unguarded_routes, route_table
from parley.server.config import ServerConfigError
from tests.access.conftest import age_sessions, login
from tests.server.conftest import client_for


class Form(dict[str, str]):
    """A sample body sent as an HTML form (the studio's buttons) rather than JSON."""


EVENT = {"event": "slot", "name": "username", "value": "x", "timestamp": 1.0}
# (method, route) -> (a concrete URL, a JSON body): a valid request where one is cheap.
SAMPLES: dict[tuple[str, str], tuple[str, Any]] = {
    ("GET", "/status"): ("/status", None),
    ("POST", "/model/parse"): ("/model/parse", {"text": "hello"}),
    ("PUT", "/model"): ("/model", {"model_file": "/nonexistent/model.tar.gz"}),
    ("GET", "/conversations/{conversation_id}/tracker"): ("/conversations/c1/tracker", None),
    ("PUT", "/conversations/{conversation_id}/tracker"): ("/conversations/c1/tracker", [EVENT]),
    ("POST", "/conversations/{conversation_id}/tracker/events"): (
        "/conversations/c1/tracker/events",
        EVENT,
    ),
    ("POST", "/conversations/{conversation_id}/messages"): (
        "/conversations/c1/messages",
        {"text": "hello", "sender": "user"},
    ),
    ("POST", "/conversations/{conversation_id}/execute"): (
        "/conversations/c1/execute",
        {"name": "action_listen"},
    ),
    ("POST", "/conversations/{conversation_id}/trigger_intent"): (
        "/conversations/c1/trigger_intent",
        {"name": "greet"},
    ),
    ("POST", "/conversations/{conversation_id}/predict"): ("/conversations/c1/predict", None),
    ("POST", "/admin/conversations/{conversation_id}/handoff/release"): (
        "/admin/conversations/c1/handoff/release",
        None,
    ),
    ("GET", "/auth/me"): ("/auth/me", None),
    ("GET", "/auth/tokens"): ("/auth/tokens", None),
    ("POST", "/auth/tokens"): ("/auth/tokens", {"name": "ci", "scopes": ["models:read"]}),
    ("DELETE", "/auth/tokens/{token_id}"): ("/auth/tokens/0000000000000000", None),
    ("GET", "/admin/roles"): ("/admin/roles", None),
    ("GET", "/admin/users"): ("/admin/users", None),
    ("POST", "/admin/users"): ("/admin/users", {"username": "{role}-made", "role": "viewer"}),
    ("PATCH", "/admin/users/{username}"): ("/admin/users/nobody", {"role": "viewer"}),
    ("DELETE", "/admin/users/{username}"): ("/admin/users/nobody", None),
    ("DELETE", "/admin/users/{username}/sessions"): ("/admin/users/nobody/sessions", None),
    ("GET", "/admin/audit"): ("/admin/audit?action=login", None),
    ("GET", "/admin/models"): ("/admin/models", None),
    ("PUT", "/admin/models/{version}/tags"): ("/admin/models/unknown/tags", {"tag": "qa"}),
    ("GET", "/admin/rollout"): ("/admin/rollout", None),
    ("POST", "/admin/rollout"): ("/admin/rollout", {"candidate": "unknown", "percent": 10}),
    ("POST", "/admin/rollout/step"): ("/admin/rollout/step", {"percent": 20}),
    ("POST", "/admin/rollout/promote"): ("/admin/rollout/promote", {}),
    ("POST", "/admin/rollout/rollback"): ("/admin/rollout/rollback", {}),
    # The studio (the fixture's tracker store holds conversations c1 and c2).
    ("GET", "/studio"): ("/studio", None),
    ("GET", "/studio/conversations"): ("/studio/conversations?low_confidence=true", None),
    ("GET", "/studio/conversations/{conversation_id}"): ("/studio/conversations/c1", None),
    ("POST", "/studio/conversations/{conversation_id}/tags"): (
        "/studio/conversations/c1/tags",
        Form(tag="checked"),
    ),
    ("DELETE", "/studio/conversations/{conversation_id}/tags/{tag}"): (
        "/studio/conversations/c1/tags/checked",
        None,
    ),
    ("POST", "/studio/conversations/{conversation_id}/review"): (
        "/studio/conversations/c1/review",
        Form(reviewed="true"),
    ),
    ("POST", "/studio/conversations/{conversation_id}/flags/{sequence}"): (
        "/studio/conversations/c1/flags/1",
        Form(on="true"),
    ),
    ("GET", "/studio/conversations/{conversation_id}/export"): (
        "/studio/conversations/c1/export",
        None,
    ),
    ("GET", "/studio/conversations/{conversation_id}/story"): (
        "/studio/conversations/c1/story",
        None,
    ),
    ("DELETE", "/studio/conversations/{conversation_id}"): ("/studio/conversations/c2", None),
    ("GET", "/studio/analytics"): ("/studio/analytics?group=channel", None),
    ("GET", "/studio/inbox"): ("/studio/inbox", None),
    ("POST", "/studio/inbox/{conversation_id}/{sequence}"): (
        "/studio/inbox/c1/1",
        Form(decision="discard"),
    ),
    ("GET", "/studio/clusters"): ("/studio/clusters?limit=100", None),
    ("POST", "/studio/clusters/promote"): (
        "/studio/clusters/promote",
        Form(intent="new_{role}", messages="1:c1", to="changeset"),
    ),
    ("GET", "/studio/changeset"): ("/studio/changeset", None),
    ("GET", "/studio/changeset/download"): ("/studio/changeset/download", None),
    ("POST", "/studio/changeset/apply"): ("/studio/changeset/apply", None),
    ("DELETE", "/studio/changeset/{conversation_id}/{sequence}"): (
        "/studio/changeset/c1/1",
        None,
    ),
    ("DELETE", "/studio/changeset"): ("/studio/changeset", None),
    # Guest links (parley/studio/share_routes.py).
    ("GET", "/studio/share"): ("/studio/share", None),
    ("POST", "/studio/share"): ("/studio/share", Form(name="{role}-link", days="1")),
    ("POST", "/studio/share/{link_id}/revoke"): ("/studio/share/0000000000000000/revoke", None),
    # Training from the studio: the fixture's project has no domain, so a started training
    # fails its validation at once; no such job for the others.
    ("GET", "/studio/training"): ("/studio/training", None),
    ("POST", "/studio/training"): ("/studio/training", Form()),
    ("GET", "/studio/training/{job_id}"): ("/studio/training/20260101-000000-abcdef", None),
    ("GET", "/studio/training/{job_id}/progress"): (
        "/studio/training/20260101-000000-abcdef/progress",
        None,
    ),
    ("POST", "/studio/training/{job_id}/cancel"): (
        "/studio/training/20260101-000000-abcdef/cancel",
        None,
    ),
    ("GET", "/studio/filters"): ("/studio/filters", None),
    ("POST", "/studio/filters"): ("/studio/filters", Form(name="mine", query="intent=greet")),
    ("DELETE", "/studio/filters/{filter_id}"): ("/studio/filters/999", None),
    # These end the caller's session: called last.
    ("POST", "/auth/logout"): ("/auth/logout", None),
    ("POST", "/auth/logout-all"): ("/auth/logout-all", None),
}


# A permitted call may still be refused for what it asks (404 no such user/token, 400 a model
# file that does not exist) but never as unauthenticated, unauthorised, invalid or failed.
ALLOWED_OK = {200, 201, 400, 404, 409}  # 409: no rollout to step (the caller got through)


def _guarded_routes(server: ParleyServer) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path in route_table(server.fastapi)
        if method not in ("HEAD", "OPTIONS") and not is_public(path)
    )


def test_every_guarded_route_is_sampled(server: ParleyServer) -> None:
    routes = _guarded_routes(server)
    assert set(routes) == set(ROUTE_PERMISSIONS) == set(SAMPLES)


def test_an_app_with_an_undeclared_route_is_refused(server: ParleyServer) -> None:
    extra = APIRouter()

    @extra.get("/admin/secret-export")
    async def secret_export() -> dict[str, str]:
        return {}

    server.fastapi.include_router(extra)
    with pytest.raises(ServerConfigError, match="GET /admin/secret-export"):
        _refuse_unguarded_routes(server.fastapi)


async def _call(client: Any, route: tuple[str, str], role: str, csrf: str | None) -> int:
    url, body = SAMPLES[route]
    if isinstance(body, dict):
        filled = {k: v.format(role=role) if isinstance(v, str) else v for k, v in body.items()}
        body = Form(filled) if isinstance(body, Form) else filled
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if isinstance(body, Form):
        response = await client.request(route[0], url, data=body, headers=headers)
    else:
        response = await client.request(route[0], url, json=body, headers=headers)
    return int(response.status_code)


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
async def test_each_role_gets_exactly_its_routes(server: ParleyServer, role: str) -> None:
    allowed = BUILTIN_ROLES[role]
    wrong = []
    session = await login(server, role)
    for route in SAMPLES:
        if route[1].startswith("/auth/logout"):  # each ends the session: start a fresh one
            await session.client.aclose()
            session = await login(server, role)
        status = await _call(session.client, route, role, session.csrf)
        permission = ROUTE_PERMISSIONS[route]
        may = permission == AUTHENTICATED or permission in allowed
        if (may and status not in ALLOWED_OK) or (not may and status != 403):
            wrong.append(f"{route[0]} {route[1]}: {status} (permitted: {may})")
    await session.client.aclose()
    assert wrong == []


async def test_no_session_gets_401_everywhere(server: ParleyServer) -> None:
    async with client_for(server) as client:
        statuses = {route: await _call(client, route, "anonymous", None) for route in SAMPLES}
    assert {route: s for route, s in statuses.items() if s != 401} == {}


async def test_an_expired_session_gets_401_everywhere(server: ParleyServer, access: Access) -> None:
    session = await login(server, "admin")
    await age_sessions(access, "admin", access.settings.session.idle_minutes * 60 + 1)
    async with session as client:
        statuses = {route: await _call(client, route, "admin", session.csrf) for route in SAMPLES}
    assert {route: s for route, s in statuses.items() if s != 401} == {}


async def test_the_legacy_auth_token_is_admin(server: ParleyServer) -> None:
    async with client_for(server) as client:
        response = await client.get("/admin/users?token=legacy-admin-token")
        assert response.status_code == 200
        response = await client.get(
            "/admin/audit", headers={"Authorization": "Bearer legacy-admin-token"}
        )
        assert response.status_code == 200


async def test_a_legacy_jwt_user_reaches_only_its_own_conversation(
    access: Access, helpdesk: Any
) -> None:
    import jwt

    from parley.server import AgentHolder, ServerConfig, create_app

    config = ServerConfig(enable_api=True, jwt_secret="s" * 32)
    server = create_app(AgentHolder(helpdesk, None), config, access=access)
    user = jwt.encode({"user": {"username": "c1", "role": "user"}}, "s" * 32, algorithm="HS256")
    headers = {"Authorization": f"Bearer {user}"}
    async with client_for(server) as client:
        assert (await client.get("/conversations/c1/tracker", headers=headers)).status_code == 200
        assert (await client.get("/conversations/c2/tracker", headers=headers)).status_code == 403
        assert (await client.get("/admin/users", headers=headers)).status_code == 403
