"""What an action is, and how it declines to run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.sdk.dispatcher import CollectingDispatcher
    from parley.sdk.tracker import Tracker

DomainDict = dict[str, Any]


class Action:
    """A custom action: subclass it, give it a `name()` and an (async or sync) `run()`."""

    def name(self) -> str:
        raise NotImplementedError("An action must implement a name")

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Do the work; send messages with `dispatcher`; return events (see parley.sdk.events)."""
        raise NotImplementedError("An action must implement its run method")

    def __str__(self) -> str:
        return f"Action('{self.name()}')"


class ActionExecutionRejection(Exception):
    """Raise it in `run()` to decline; the assistant then predicts another action."""

    def __init__(self, action_name: str, message: str | None = None) -> None:
        self.action_name = action_name
        self.message = message or f"Custom action '{action_name}' rejected execution."
        super().__init__(self.message)


class ActionNotFoundException(Exception):
    def __init__(self, action_name: str, message: str | None = None) -> None:
        self.action_name = action_name
        self.message = message or f"No registered action found for name '{action_name}'."
        super().__init__(self.message)
