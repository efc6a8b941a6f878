"""How the engine runs custom actions: through a runner speaking Rasa's action-server protocol.

The request is the webhook body Rasa sends (`next_action`, `sender_id`, `tracker`, `domain`,
`version`); the reply is `{"events": [...], "responses": [...]}`. An HTTP runner (action server)
and an in-process runner (actions imported into the server) both satisfy `CustomActionRunner`.
"""

from __future__ import annotations

from typing import Any, Protocol

from parley.dialogue.action_errors import ActionRejected, ActionServerError

__all__ = ["ActionRejected", "ActionServerError", "CustomActionRunner"]


class CustomActionRunner(Protocol):
    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run `action_name`; return the reply's JSON. Raises ActionServerError/ActionRejected."""
        ...

    async def close(self) -> None: ...
