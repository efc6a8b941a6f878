"""Running custom actions: on an action server over HTTP(S), or in-process."""

from parley.actions.breaker import CircuitBreaker
from parley.actions.config import ActionEndpointConfig, parse_action_endpoint
from parley.actions.errors import (
    ActionConfigError,
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
