"""Finds the actions in a module or package and runs one per webhook request."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import types
from collections.abc import Callable
from typing import Any

from parley.sdk.dispatcher import CollectingDispatcher
from parley.sdk.interfaces import Action, ActionNotFoundException
from parley.sdk.tracker import Tracker

logger = logging.getLogger(__name__)

ActionFunction = Callable[[CollectingDispatcher, Tracker, dict[str, Any]], Any]


class ActionExecutor:
    """A registry of actions by name; `run(request)` returns `{"events", "responses"}`.

    Raises ActionNotFoundException for an unknown name and lets ActionExecutionRejection
    (and any error of the action itself) through to the caller.
    """

    def __init__(self) -> None:
        self.actions: dict[str, ActionFunction] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self.actions)

    def register_action(self, action: Action | type[Action]) -> None:
        instance = action() if isinstance(action, type) else action
        name = instance.name()
        if name in self.actions:
            logger.warning("Action '%s' is defined twice; the later one wins", name)
        self.actions[name] = instance.run
        logger.info("Registered action '%s'.", name)

    def register_function(self, name: str, function: ActionFunction) -> None:
        self.actions[name] = function

    def register_package(self, package: str | types.ModuleType) -> None:
        """Import a module (or a package and all its submodules) and register its actions.

        Only `Action` subclasses defined in those modules count, so imported base classes
        and helpers are not registered twice.
        """
        modules = _import_all(package)
        prefixes = {m.__name__ for m in modules}
        for module in modules:
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, Action)
                    and cls.__module__ in prefixes
                    and not inspect.isabstract(cls)
                ):
                    self._register_class(cls)

    def _register_class(self, cls: type[Action]) -> None:
        try:
            instance = cls()
            instance.name()
        except NotImplementedError:
            logger.debug("Skipping %s: it has no name (a base class)", cls.__qualname__)
            return
        self.register_action(instance)

    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        action_name = request.get("next_action")
        if not isinstance(action_name, str) or not action_name:
            raise ValueError("the request has no 'next_action'")
        function = self.actions.get(action_name)
        if function is None:
            raise ActionNotFoundException(action_name)
        tracker = Tracker.from_dict(
            request.get("tracker") or {"sender_id": request.get("sender_id", "")}
        )
        dispatcher = CollectingDispatcher()
        domain = request.get("domain") or {}
        if inspect.iscoroutinefunction(function):
            events = await function(dispatcher, tracker, domain)
        else:  # a blocking action must not stall other conversations
            events = await asyncio.to_thread(function, dispatcher, tracker, domain)
            if inspect.isawaitable(events):
                events = await events
        if dispatcher.is_streaming_active:
            logger.warning("Action '%s' did not call stream_end(); closing its stream", action_name)
            await dispatcher.stream_end()
        return {
            "events": _valid_events(action_name, events or []),
            "responses": dispatcher.messages,
        }


def _valid_events(action_name: str, events: Any) -> list[dict[str, Any]]:
    valid = []
    for event in events:
        if isinstance(event, dict) and event.get("event"):
            valid.append(event)
        else:
            logger.error(
                "Action '%s' returned %r, which is not an event; use parley.sdk.events helpers",
                action_name,
                event,
            )
    return valid


def _import_all(package: str | types.ModuleType) -> list[types.ModuleType]:
    root = importlib.import_module(package) if isinstance(package, str) else package
    modules = [root]
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules
