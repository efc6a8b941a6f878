"""What can go wrong when the engine runs an action; one family for built-in and custom actions.

- `ActionRejected`: the action refuses to run now (a form got no value, an action server replied
  `action_execution_rejected`); the turn goes on and other policies choose instead.
- `ActionFailed`: the action could not run (a custom action without an action server, a bad
  reply); the turn answers with the fallback.
- `ActionServerError` (an `ActionFailed`): the action server could not run it: down, timeout,
  circuit open, HTTP error (`parley.action_runners.errors` has one subclass per cause).
"""

from __future__ import annotations


class ActionFailed(Exception):
    """An action could not run (a custom action without a runner, the server down)."""

    def __init__(self, action_name: str, message: str) -> None:
        self.action_name = action_name
        super().__init__(f"action '{action_name}': {message}")


class ActionRejected(Exception):
    """The action refuses to run now (a form got no value, the action server said so): other
    policies choose instead."""

    def __init__(self, action_name: str, message: str = "") -> None:
        self.action_name = action_name
        super().__init__(f"action '{action_name}': {message or 'rejected'}")


class ActionServerError(ActionFailed):
    """The action server could not run the action: down, timeout, circuit open, bad reply."""
