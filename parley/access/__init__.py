"""Access control: users, roles (`area:verb` permissions), sessions, API tokens, SSO and audit.

Route guards for FastAPI are in `parley.access.dependencies` (`require("conversations:read")`);
the service that logs users in is `parley.access.service.Access`.
"""

from parley.access.errors import (
    AccessConfigError,
    AccessError,
    LoginFailed,
    NotAuthenticated,
    NotAuthorized,
)
from parley.access.permissions import BUILTIN_ROLES, PERMISSIONS, RoleBook
from parley.access.principal import Principal
from parley.access.settings import AccessSettings

__all__ = [
    "BUILTIN_ROLES",
    "PERMISSIONS",
    "AccessConfigError",
    "AccessError",
    "AccessSettings",
    "LoginFailed",
    "NotAuthenticated",
    "NotAuthorized",
    "Principal",
    "RoleBook",
]
