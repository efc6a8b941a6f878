"""What an action is and what it may use while it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from parley.dialogue.custom import CustomActionRunner
from parley.dialogue.events import Event
from parley.dialogue.settings import DialogueSettings
from parley.dialogue.tracker import Tracker
from parley.project.domain import Domain

ActionResolver = Callable[[str, Domain], "Action"]
"""Finds the action behind a name (`registry.resolve_action`)."""


@dataclass
class ActionContext:
    """The model's domain and settings, the custom action runner, the input channel, and how to
    find another action by name (an action that runs another, like the two-stage fallback's
    final action, gets it from here rather than importing the registry that imports it)."""

    domain: Domain
    settings: DialogueSettings = field(default_factory=DialogueSettings)
    runner: CustomActionRunner | None = None
    channel: str | None = None
    resolve: ActionResolver | None = None

    def action(self, name: str) -> Action:
        """The action called `name`, found by the resolver the processor gave."""
        if self.resolve is None:
            raise RuntimeError(f"cannot run action '{name}': this context has no action resolver")
        return self.resolve(name, self.domain)


class Action(Protocol):
    name: str

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        """Events this action causes; the processor logs the action itself before them."""
        ...
