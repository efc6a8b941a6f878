"""How the engine runs custom actions: through a runner speaking Rasa's action-server protocol.

The request is the webhook body Rasa sends (`next_action`, `sender_id`, `tracker`, `domain`,
`version`); the reply is `{"events": [...], "responses": [...]}`. An HTTP runner (action server)
and an in-process runner (actions imported into the server) both satisfy `CustomActionRunner`.
"""

from __future__ import annotations

from typing import Any, Protocol


class ActionServerError(Exception):
    """The action could not be run: server down, timeout, circuit open, bad reply."""

    def __init__(self, action_name: str, message: str) -> None:
        self.action_name = action_name
        super().__init__(f"action '{action_name}': {message}")


class ActionRejected(ActionServerError):
    """The action server refused to run the action (`action_execution_rejected`)."""


class CustomActionRunner(Protocol):
    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run `action_name`; return the reply's JSON. Raises ActionServerError/ActionRejected."""
        ...

    async def close(self) -> None: ...
