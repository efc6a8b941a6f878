"""What an identity provider vouched for, and the group -> role mapping of parley.yml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from parley.access.errors import LoginFailed
from parley.access.settings import RoleMapping


@dataclass(frozen=True)
class SsoIdentity:
    username: str
    source: str  # ldap, oidc, saml
    groups: tuple[str, ...] = ()
    display_name: str | None = None
    email: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def map_role(mapping: RoleMapping, groups: Iterable[str]) -> str:
    """The role of the first `mapping.groups` entry the user belongs to (case-insensitive),
    else the default role; raises LoginFailed when neither applies."""
    member_of = {group.lower() for group in groups}
    for group, role in mapping.groups.items():
        if group.lower() in member_of:
            return role
    if mapping.default_role is None:
        raise LoginFailed("you are not in any group that may use Parley")
    return mapping.default_role
