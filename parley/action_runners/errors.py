"""Why a custom action could not run, one subclass per cause so the engine can react to each."""

from __future__ import annotations

from parley.action_runners.config import ActionConfigError
from parley.dialogue.custom import ActionRejected, ActionServerError

__all__ = [
    "ActionConfigError",
    "ActionNotRegistered",
    "ActionRejected",
    "ActionServerError",
    "ActionServerUnavailable",
    "ActionTimeout",
    "BadActionReply",
    "CircuitOpen",
]


class ActionServerUnavailable(ActionServerError):
    """The action server could not be reached (refused, unreachable, TLS handshake failed)."""


class ActionTimeout(ActionServerError):
    """The action server did not answer within the configured timeout."""


class CircuitOpen(ActionServerError):
    """The action server failed repeatedly; calls fail at once until the reset timeout."""


class BadActionReply(ActionServerError):
    """The action server answered, but not with a valid `{"events", "responses"}` reply."""


class ActionNotRegistered(ActionServerError):
    """The action server does not know the action (HTTP 404, or not in the actions module)."""
