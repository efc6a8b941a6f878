"""Slot validation actions: `validate_<slot>` / `extract_<slot>` methods, as rasa_sdk runs them.

`ValidationAction` (name `action_validate_slot_mappings`) handles slots outside forms;
`FormValidationAction` (name `validate_<form>`) handles a form's slots and may override
`required_slots` to ask for more or other slots than the domain lists.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from parley.sdk.events import EventType, SlotSet
from parley.sdk.interfaces import Action, DomainDict

if TYPE_CHECKING:
    from parley.sdk.dispatcher import CollectingDispatcher
    from parley.sdk.tracker import Tracker

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
ACTION_VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _method_suffix(slot_name: str) -> str:
    return slot_name.replace("-", "_")


class ValidationAction(Action):
    """Validates and extracts slots whose mappings have no form condition."""

    def name(self) -> str:
        return ACTION_VALIDATE_SLOT_MAPPINGS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        return await self._validation_events(dispatcher, tracker, domain)

    async def _validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Slots this action fills; override to add or drop slots (default: `domain_slots`)."""
        return domain_slots

    def domain_slots(self, domain: DomainDict) -> list[str]:
        """Slots of the domain whose mappings have no `active_loop` condition."""
        return [
            name for name, slot in (domain.get("slots") or {}).items() if not _mapped_to_form(slot)
        ]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Run `extract_<slot>` for each required slot that has one."""
        values: dict[str, Any] = {}
        domain_slots = self.domain_slots(domain)
        for slot in await self.required_slots(domain_slots, dispatcher, tracker, domain):
            method = getattr(self, f"extract_{_method_suffix(slot)}", None)
            if method is None:
                if slot not in domain_slots:
                    logger.warning("No method 'extract_%s' found for slot '%s'.", slot, slot)
                continue
            output = await _maybe_await(method(dispatcher, tracker, domain))
            if not isinstance(output, dict):
                logger.warning("extract_%s must return a dict of slot values", slot)
                continue
            values.update(output)
            tracker.slots.update(output)  # later extract_ methods see earlier results
        return [SlotSet(slot, value) for slot, value in values.items()]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Run `validate_<slot>(value, dispatcher, tracker, domain)` for each candidate slot."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        slots = tracker.slots_to_validate()
        for slot, value in list(slots.items()):
            if slot not in required:
                slots.pop(slot)
                continue
            method = getattr(self, f"validate_{_method_suffix(slot)}", None)
            if method is None:
                logger.debug("Skipping validation for `%s`: no validate_ method.", slot)
                continue
            output = await _maybe_await(method(value, dispatcher, tracker, domain))
            if not isinstance(output, dict):
                logger.warning("validate_%s must return a dict of slot values", slot)
                continue
            slots.update(output)
            tracker.slots.update(output)
        return [SlotSet(slot, value) for slot, value in slots.items()]


class FormValidationAction(ValidationAction):
    """Validation for the form named by `name()` minus its `validate_` prefix."""

    def name(self) -> str:
        raise NotImplementedError("A form validation action must implement a name")

    def form_name(self) -> str:
        return self.name().replace("validate_", "", 1)

    def domain_slots(self, domain: DomainDict) -> list[str]:
        """The form's `required_slots` as listed in the domain."""
        form = (domain.get("forms") or {}).get(self.form_name()) or {}
        return list(form.get("required_slots") or [])

    async def _validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot is not None:
            events.append(next_slot)
        return events

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        """`SlotSet(requested_slot, …)` when `required_slots` was overridden, else None.

        With the domain's list, the form itself picks the next slot; with an overridden list
        this action does, and `requested_slot = None` ends the form.
        """
        domain_slots = self.domain_slots(domain)
        required = await self.required_slots(domain_slots, dispatcher, tracker, domain)
        if required == domain_slots:
            return None
        missing = (slot for slot in required if tracker.slots.get(slot) is None)
        return SlotSet(REQUESTED_SLOT, next(missing, None))


def _mapped_to_form(slot: dict[str, Any]) -> bool:
    return any(
        condition.get("active_loop")
        for mapping in slot.get("mappings") or []
        for condition in mapping.get("conditions") or []
    )
