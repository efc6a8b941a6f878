"""FastAPI dependencies that guard routes: `require("conversations:read")` for one route,
`route_permission` for a router whose routes are declared in `policy.ROUTE_PERMISSIONS`.

Both find the app's `Gatekeeper` in `request.app.state.gatekeeper` and return the `Principal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from parley.access.permissions import check_permissions
from parley.access.policy import AUTHENTICATED, permission_for_url
from parley.access.principal import Principal


async def _guard(request: Request, permission: str) -> Principal:
    gate = request.app.state.gatekeeper
    principal: Principal = await gate.authenticate(request)
    if permission != AUTHENTICATED:
        await gate.authorize(request, principal, permission)
    return principal


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: 401 without a valid caller, 403 without `permission`."""
    if permission != AUTHENTICATED:
        check_permissions([permission])

    async def dependency(request: Request) -> Principal:
        return await _guard(request, permission)

    return dependency


async def route_permission(request: Request) -> Principal:
    """A dependency: the permission that `policy.ROUTE_PERMISSIONS` gives the requested route
    (matched by the declared path templates, so no router internals are involved)."""
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    permission = permission_for_url(request.method, path)
    if permission is None:  # create_app refuses such apps; this is the last line of defence
        from parley.server.errors import ApiError  # not at import: parley.server imports us

        raise ApiError(403, f"{request.method} {path} declares no permission.")
    return await _guard(request, permission)


async def current_principal(request: Request) -> Principal:
    """A dependency: the authenticated caller, whatever their permissions."""
    return await _guard(request, AUTHENTICATED)
