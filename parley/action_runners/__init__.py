"""Running custom actions: on an action server over HTTP(S), or in-process.

The names below load with their module on first use: the action SDK's server imports only
`parley.action_runners.signing` (and its config), not the runners and the engine types they bring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.action_runners.breaker import CircuitBreaker
    from parley.action_runners.config import (
        ActionConfigError,
        ActionEndpointConfig,
        parse_action_endpoint,
    )
    from parley.action_runners.errors import (
        ActionNotRegistered,
        ActionRejected,
        ActionServerError,
        ActionServerUnavailable,
        ActionTimeout,
        BadActionReply,
        CircuitOpen,
    )
    from parley.action_runners.factory import create_action_runner, load_action_runner, runner_for
    from parley.action_runners.http import HttpActionRunner
    from parley.action_runners.inprocess import InProcessActionRunner
    from parley.action_runners.protocol import check_reply

_EXPORTS = {
    "ActionConfigError": "parley.action_runners.config",
    "ActionEndpointConfig": "parley.action_runners.config",
    "ActionNotRegistered": "parley.action_runners.errors",
    "ActionRejected": "parley.action_runners.errors",
    "ActionServerError": "parley.action_runners.errors",
    "ActionServerUnavailable": "parley.action_runners.errors",
    "ActionTimeout": "parley.action_runners.errors",
    "BadActionReply": "parley.action_runners.errors",
    "CircuitBreaker": "parley.action_runners.breaker",
    "CircuitOpen": "parley.action_runners.errors",
    "HttpActionRunner": "parley.action_runners.http",
    "InProcessActionRunner": "parley.action_runners.inprocess",
    "check_reply": "parley.action_runners.protocol",
    "create_action_runner": "parley.action_runners.factory",
    "load_action_runner": "parley.action_runners.factory",
    "parse_action_endpoint": "parley.action_runners.config",
    "runner_for": "parley.action_runners.factory",
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
        raise AttributeError(f"module 'parley.action_runners' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
