"""The one place that says which permission every admin and API route needs.

`create_app` refuses to build an app with a route that is neither here nor public, so a new
route cannot ship unguarded; `tests/access/test_route_permissions.py` calls each of them with
every role.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import compile_path

from parley.access.permissions import PERMISSIONS

AUTHENTICATED = "authenticated"  # any logged-in caller (their own session, their own tokens)

ROUTE_PERMISSIONS: dict[tuple[str, str], str] = {
    # The HTTP API (Rasa's paths).
    ("GET", "/status"): "models:read",
    ("POST", "/model/parse"): "nlu:read",
    ("PUT", "/model"): "rollout:manage",
    ("GET", "/conversations/{conversation_id}/tracker"): "conversations:read",
    ("PUT", "/conversations/{conversation_id}/tracker"): "conversations:write",
    ("POST", "/conversations/{conversation_id}/tracker/events"): "conversations:write",
    ("POST", "/conversations/{conversation_id}/messages"): "conversations:write",
    ("POST", "/conversations/{conversation_id}/execute"): "conversations:write",
    ("POST", "/conversations/{conversation_id}/trigger_intent"): "conversations:write",
    ("POST", "/conversations/{conversation_id}/predict"): "conversations:read",
    ("POST", "/admin/conversations/{conversation_id}/handoff/release"): "conversations:handoff",
    # The model registry and the rollout (parley/server/rollout_api.py).
    ("GET", "/admin/models"): "models:read",
    ("PUT", "/admin/models/{version}/tags"): "models:tag",
    ("GET", "/admin/rollout"): "models:read",
    ("POST", "/admin/rollout"): "rollout:manage",
    ("POST", "/admin/rollout/step"): "rollout:manage",
    ("POST", "/admin/rollout/promote"): "rollout:manage",
    ("POST", "/admin/rollout/rollback"): "rollout:manage",
    # Access control itself.
    ("GET", "/auth/me"): AUTHENTICATED,
    ("POST", "/auth/logout"): AUTHENTICATED,
    ("POST", "/auth/logout-all"): AUTHENTICATED,
    ("GET", "/auth/tokens"): AUTHENTICATED,
    ("POST", "/auth/tokens"): AUTHENTICATED,
    ("DELETE", "/auth/tokens/{token_id}"): AUTHENTICATED,
    ("GET", "/admin/roles"): "users:manage",
    ("GET", "/admin/users"): "users:manage",
    ("POST", "/admin/users"): "users:manage",
    ("PATCH", "/admin/users/{username}"): "users:manage",
    ("DELETE", "/admin/users/{username}"): "users:manage",
    ("DELETE", "/admin/users/{username}/sessions"): "users:manage",
    ("GET", "/admin/audit"): "audit:read",
    # The studio (parley/studio/routes.py).
    ("GET", "/studio"): AUTHENTICATED,
    ("GET", "/studio/conversations"): "conversations:read",
    ("GET", "/studio/conversations/{conversation_id}"): "conversations:read",
    ("POST", "/studio/conversations/{conversation_id}/tags"): "conversations:tag",
    ("DELETE", "/studio/conversations/{conversation_id}/tags/{tag}"): "conversations:tag",
    ("POST", "/studio/conversations/{conversation_id}/review"): "conversations:tag",
    ("POST", "/studio/conversations/{conversation_id}/flags/{sequence}"): "conversations:tag",
    ("DELETE", "/studio/conversations/{conversation_id}"): "conversations:delete",
    ("GET", "/studio/conversations/{conversation_id}/export"): "conversations:export",
    ("GET", "/studio/conversations/{conversation_id}/story"): "conversations:export",
    ("GET", "/studio/analytics"): "analytics:read",
    ("GET", "/studio/inbox"): "nlu:read",
    ("POST", "/studio/inbox/{conversation_id}/{sequence}"): "nlu:annotate",
    # Unhandled messages clustered, and the change set (parley/studio/discovery_routes.py).
    ("GET", "/studio/clusters"): "nlu:read",
    ("POST", "/studio/clusters/promote"): "nlu:annotate",
    ("GET", "/studio/changeset"): "nlu:annotate",
    ("GET", "/studio/changeset/download"): "nlu:annotate",
    ("POST", "/studio/changeset/apply"): "nlu:annotate",
    ("DELETE", "/studio/changeset"): "nlu:annotate",
    ("DELETE", "/studio/changeset/{conversation_id}/{sequence}"): "nlu:annotate",
    # Guest links (parley/studio/share_routes.py); the guest chat they open is public below.
    ("GET", "/studio/share"): "share:create",
    ("POST", "/studio/share"): "share:create",
    ("POST", "/studio/share/{link_id}/revoke"): "share:create",
    # Training from the studio (parley/studio/training_routes.py).
    ("GET", "/studio/training"): "models:read",
    ("POST", "/studio/training"): "models:train",
    ("GET", "/studio/training/{job_id}"): "models:read",
    ("GET", "/studio/training/{job_id}/progress"): "models:read",
    ("POST", "/studio/training/{job_id}/cancel"): "models:train",
    ("GET", "/studio/filters"): "conversations:read",  # saved filters (parley/studio/saved.py)
    ("POST", "/studio/filters"): "conversations:read",
    ("DELETE", "/studio/filters/{filter_id}"): "conversations:read",
}

# Routes anyone may call: health, docs, the login flows; channels guard their own webhooks.
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/version",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/chat",  # the web chat page and its assets
        "/chat/static/{name}",
        "/auth/login",
        "/auth/oidc/login",
        "/auth/oidc/callback",
        "/auth/saml/login",
        "/auth/saml/acs",
        "/auth/saml/metadata",
        "/studio/login",  # the studio's login form and its assets
        "/studio/static/{name}",
        "/share/{token}",  # a guest link: the token is checked by the route itself
        "/share/{token}/webhook",
        "/share/static/{name}",
    }
)
PUBLIC_PREFIXES = (
    "/webhooks/",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/static-offline-docs",
)


def permission_for(method: str, path: str) -> str | None:
    """The permission a route needs (or AUTHENTICATED); None when it is not declared."""
    return ROUTE_PERMISSIONS.get((method.upper(), path))


_MATCHERS = [
    (method, compile_path(path)[0], permission)
    for (method, path), permission in ROUTE_PERMISSIONS.items()
]


def permission_for_url(method: str, url_path: str) -> str | None:
    """The permission of the declared route that `url_path` (e.g. /conversations/c1/tracker)
    matches, by the routes' own templates; None when none does."""
    method = method.upper()
    for route_method, pattern, permission in _MATCHERS:
        if route_method == method and pattern.match(url_path):
            return permission
    return None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def undeclared(routes: Iterable[tuple[str, str]]) -> list[str]:
    """`METHOD path` of every (method, path) that is neither public nor declared."""
    return sorted(
        f"{method} {path}"
        for method, path in routes
        if method not in ("HEAD", "OPTIONS")
        and not is_public(path)
        and permission_for(method, path) is None
    )


def _check_table() -> None:
    for (method, path), permission in ROUTE_PERMISSIONS.items():
        if permission != AUTHENTICATED and permission not in PERMISSIONS:
            raise AssertionError(f"{method} {path}: unknown permission {permission!r}")


_check_table()
