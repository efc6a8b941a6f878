"""Running custom actions: on an action server over HTTP(S), or in-process.

The names below load with their module on first use: the action SDK's server imports only
`parley.actions.signing` (and its config), not the runners and the engine types they bring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.actions.breaker import CircuitBreaker
    from parley.actions.config import ActionConfigError, ActionEndpointConfig, parse_action_endpoint
    from parley.actions.errors import (
        ActionNotRegistered,
        ActionRejected,
        ActionServerError,
        ActionServerUnavailable,
        ActionTimeout,
        BadActionReply,
        CircuitOpen,
    )
    from parley.actions.factory import create_action_runner, load_action_runner, runner_for
    from parley.actions.http import HttpActionRunner
    from parley.actions.inprocess import InProcessActionRunner
    from parley.actions.protocol import check_reply

_EXPORTS = {
    "ActionConfigError": "parley.actions.config",
    "ActionEndpointConfig": "parley.actions.config",
    "ActionNotRegistered": "parley.actions.errors",
    "ActionRejected": "parley.actions.errors",
    "ActionServerError": "parley.actions.errors",
    "ActionServerUnavailable": "parley.actions.errors",
    "ActionTimeout": "parley.actions.errors",
    "BadActionReply": "parley.actions.errors",
    "CircuitBreaker": "parley.actions.breaker",
    "CircuitOpen": "parley.actions.errors",
    "HttpActionRunner": "parley.actions.http",
    "InProcessActionRunner": "parley.actions.inprocess",
    "check_reply": "parley.actions.protocol",
    "create_action_runner": "parley.actions.factory",
    "load_action_runner": "parley.actions.factory",
    "parse_action_endpoint": "parley.actions.config",
    "runner_for": "parley.actions.factory",
}

__all__ = [
    "ActionConfigError",
    "ActionEndpointConfig",
    "ActionNotRegistered",
    "ActionRejected",
    "ActionServerError",
    "ActionServerUnavailable",
    "ActionTimeout",
    "BadActionReply",
    "CircuitBreaker",
    "CircuitOpen",
    "HttpActionRunner",
    "InProcessActionRunner",
    "check_reply",
    "create_action_runner",
    "load_action_runner",
    "parse_action_endpoint",
    "runner_for",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parley.actions' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
