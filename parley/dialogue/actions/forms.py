"""Forms: ask for required slots one by one, validate what the user gave, then end.

A form is a loop. When activated it takes values from `from_trigger_intent` mappings and slots
already filled; on each user turn it takes the required slots `action_extract_slots` set. The
values go through `validate_<form>` (a custom action, when the domain declares one). If the
user's message filled nothing while a slot was requested, the form rejects itself so another
policy handles the interruption. Then it asks for the next empty slot (`action_ask_<form>_<slot>`,
`action_ask_<slot>`, `utter_ask_<form>_<slot>` or `utter_ask_<slot>`), or ends the loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from parley.dialogue.action_errors import ActionRejected
from parley.dialogue.actions.base import ActionContext
from parley.dialogue.actions.builtin import utter
from parley.dialogue.actions.remote import run_custom
from parley.dialogue.events import ActiveLoop, Event, SlotSet
from parley.dialogue.slots import trigger_intent_values
from parley.dialogue.tracker import ACTION_LISTEN, REQUESTED_SLOT, Tracker

logger = logging.getLogger(__name__)


@dataclass
class FormAction:
    name: str

    def _required(self, context: ActionContext) -> tuple[str, ...]:
        return context.domain.forms[self.name].required_slots

    async def run(self, tracker: Tracker, context: ActionContext) -> list[Event]:
        required = self._required(context)
        events: list[Event] = []
        working = tracker.copy()
        if tracker.active_loop_name != self.name:
            events.append(ActiveLoop(name=self.name))
            working.update(events[-1])
            candidates = trigger_intent_values(self.name, tracker, context.domain)
            for slot in required:
                if tracker.get_slot(slot) is not None:
                    candidates.setdefault(slot, tracker.get_slot(slot))
            events += await self._validate(candidates, working, context)
        elif tracker.latest_action_name == ACTION_LISTEN and tracker.active_loop.get(
            "validate", True
        ):
            candidates = {
                e.name: e.value
                for e in tracker.events_after_latest_user()
                if isinstance(e, SlotSet) and e.name in required
            }
            # as Rasa: validate_<form> runs even without candidates (its extract_ methods may
            # fill custom slots); the form rejects only when no slot got a value
            validated = await self._validate(candidates, working, context, always=True)
            if (
                tracker.get_slot(REQUESTED_SLOT)
                and not candidates
                and not any(isinstance(e, SlotSet) and e.name != REQUESTED_SLOT for e in validated)
            ):
                raise ActionRejected(
                    self.name, f"form '{self.name}' got no value for the requested slot"
                )
            events += validated
        if working.active_loop_name != self.name:
            return events  # the validation ended the form
        chosen = [e for e in events if isinstance(e, SlotSet) and e.name == REQUESTED_SLOT]
        if chosen:  # validate_<form> picked the next slot (overridden required_slots)
            if chosen[-1].value is None:
                return [*events, ActiveLoop(name=None)]
            return [*events, *await self._ask(str(chosen[-1].value), working, context)]
        next_slot = next((s for s in required if working.get_slot(s) is None), None)
        if next_slot is None:
            return [*events, SlotSet(name=REQUESTED_SLOT, value=None), ActiveLoop(name=None)]
        request = SlotSet(name=REQUESTED_SLOT, value=next_slot)
        working.update(request)
        return [*events, request, *await self._ask(next_slot, working, context)]

    async def _validate(
        self,
        candidates: dict[str, Any],
        working: Tracker,
        context: ActionContext,
        always: bool = False,
    ) -> list[Event]:
        """Candidate slot values, as `validate_<form>` accepts them; applied to `working`."""
        slot_events: list[Event] = [
            SlotSet(name=name, value=value)
            for name, value in candidates.items()
            if working.get_slot(name) != value
        ]
        working.update_all(slot_events)
        validator = f"validate_{self.name}"
        if (not candidates and not always) or validator not in context.domain.actions:
            return slot_events
        validated = await run_custom(validator, working, context)
        working.update_all(validated)
        answered = {e.name for e in validated if isinstance(e, SlotSet)}
        kept = [e for e in slot_events if isinstance(e, SlotSet) and e.name not in answered]
        return [*kept, *validated]

    async def _ask(self, slot: str, working: Tracker, context: ActionContext) -> list[Event]:
        for action in (f"action_ask_{self.name}_{slot}", f"action_ask_{slot}"):
            if action in context.domain.actions:
                return await run_custom(action, working, context)
        for response in (f"utter_ask_{self.name}_{slot}", f"utter_ask_{slot}"):
            if response in context.domain.responses:
                return utter(response, working, context)
        logger.warning("Form '%s' has no way to ask for slot '%s'.", self.name, slot)
        return []
