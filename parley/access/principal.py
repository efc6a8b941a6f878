"""Who is calling, as the gatekeeper established it, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """`via` is how the caller proved it: session, api_token, auth_token, jwt or open (no auth
    configured). `only_conversation` limits a legacy JWT `user` to its own conversation."""

    name: str
    role: str
    permissions: frozenset[str]
    via: str
    only_conversation: str | None = None
    csrf_token: str | None = None

    def allows(self, permission: str, conversation_id: str | None = None) -> bool:
        if permission not in self.permissions:
            return False
        return self.only_conversation is None or self.only_conversation == conversation_id
