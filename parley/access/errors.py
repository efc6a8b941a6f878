"""Errors of access control: bad configuration, and refusals the HTTP layer turns into 401/403."""

from __future__ import annotations


class AccessError(Exception):
    """Base class of access-control errors."""


class AccessConfigError(AccessError):
    """`access` in parley.yml, a role, a permission or a CLI argument is unusable."""


class LoginFailed(AccessError):
    """Credentials, an assertion or a token were refused (the message is safe to show)."""


class NotAuthenticated(AccessError):
    """No valid session, API token or legacy credential came with the request (HTTP 401)."""


class NotAuthorized(AccessError):
    """The caller is known but lacks the permission (HTTP 403)."""
