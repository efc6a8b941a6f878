"""Permissions (`area:verb`) and roles (named sets of permissions): built-in and custom."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from parley.access.errors import AccessConfigError

# Every permission Parley checks; a route, CLI verb or studio page names one of these.
PERMISSIONS: frozenset[str] = frozenset(
    {
        "conversations:read",
        "conversations:write",  # talk to, append events, run actions through the HTTP API
        "conversations:tag",
        "conversations:handoff",
        "conversations:delete",
        "conversations:export",
        "nlu:read",
        "nlu:annotate",
        "content:edit",
        "models:read",
        "models:train",
        "models:tag",
        "rollout:manage",
        "analytics:read",
        "users:manage",
        "share:create",
        "audit:read",
    }
)

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "admin": PERMISSIONS,
    "content_manager": frozenset(
        {
            "content:edit",
            "nlu:read",
            "nlu:annotate",
            "models:read",
            "models:train",
            "models:tag",
            "conversations:read",
        }
    ),
    "annotator": frozenset(
        {"conversations:read", "conversations:tag", "nlu:read", "nlu:annotate", "models:read"}
    ),
    "tester": frozenset({"share:create", "conversations:tag", "models:read"}),
    "analyst": frozenset({"analytics:read", "conversations:read", "models:read"}),
    "viewer": frozenset({"models:read"}),
}


@dataclass(frozen=True)
class RoleBook:
    """The roles this deployment knows: the built-in ones plus `access.roles` of parley.yml."""

    roles: Mapping[str, frozenset[str]]

    @classmethod
    def build(cls, custom: Mapping[str, Iterable[str]] | None = None) -> RoleBook:
        """Built-in roles plus custom ones; raises AccessConfigError on an unknown permission
        or a custom role that would redefine a built-in one."""
        roles = dict(BUILTIN_ROLES)
        for name, permissions in (custom or {}).items():
            if name in BUILTIN_ROLES:
                raise AccessConfigError(
                    f"parley.yml: access.roles.{name}: '{name}' is a built-in role; "
                    "choose another name for a custom role"
                )
            wanted = frozenset(permissions)
            unknown = sorted(wanted - PERMISSIONS)
            if unknown:
                raise AccessConfigError(
                    f"parley.yml: access.roles.{name}: unknown permission(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(PERMISSIONS))}"
                )
            roles[name] = wanted
        return cls(roles)

    def permissions(self, role: str) -> frozenset[str]:
        """A role's permissions; an unknown role (e.g. removed from parley.yml) has none."""
        return self.roles.get(role, frozenset())

    def check_role(self, role: str) -> str:
        if role not in self.roles:
            raise AccessConfigError(
                f"unknown role {role!r}; known roles: {', '.join(sorted(self.roles))}"
            )
        return role


def check_permissions(scopes: Iterable[str]) -> frozenset[str]:
    """Scopes as a set; raises AccessConfigError on a name that is not a permission."""
    wanted = frozenset(scopes)
    unknown = sorted(wanted - PERMISSIONS)
    if unknown:
        raise AccessConfigError(
            f"unknown permission(s) {', '.join(unknown)}; known: {', '.join(sorted(PERMISSIONS))}"
        )
    return wanted
