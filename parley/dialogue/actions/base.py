"""What an action is and what it may use while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.events import Event
from parley.dialogue.settings import DialogueSettings
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain


@dataclass
class ActionContext:
    """The model's domain and settings, the custom action runner, the input channel."""

    domain: Domain
    settings: DialogueSettings = field(default_factory=DialogueSettings)
    runner: CustomActionRunner | None = None
    channel: str | None = None


class Action(Protocol):
    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        """Events this action causes; the processor logs the action itself before them."""
        ...


class ActionFailed(Exception):
    """An action could not run (a custom action without a runner, the server down)."""

    def __init__(self, action_name: str, message: str) -> None:
        self.action_name = action_name
        super().__init__(f"action '{action_name}': {message}")


class ActionRejectedError(Exception):
    """The action refuses to run now (a form got no value): other policies choose instead."""

    def __init__(self, action_name: str, message: str = "") -> None:
        self.action_name = action_name
        super().__init__(message or f"action '{action_name}' rejected")
