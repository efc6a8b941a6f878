"""Custom actions of the starter help desk, written with Parley's SDK.

Served in-process by `parley run` (see endpoints.yml), or on their own with
`parley run actions --actions actions`.
"""

from __future__ import annotations

import re
from typing import Any

from parley.sdk import Action, CollectingDispatcher, FormValidationAction, Tracker
from parley.sdk.events import AllSlotsReset

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")


class ValidatePasswordResetForm(FormValidationAction):
    """Accepts a username only when it looks like one."""

    def name(self) -> str:
        return "validate_password_reset_form"

    def validate_username(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        candidate = str(slot_value or "").strip().lower()
        if USERNAME.match(candidate):
            return {"username": candidate}
        dispatcher.utter_message(response="utter_invalid_username", username=str(slot_value))
        return {"username": None}


class ActionResetPassword(Action):
    """Resets the password when confirmed. Replace the body with a call to your identity system."""

    def name(self) -> str:
        return "action_reset_password"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("confirm_reset"):
            dispatcher.utter_message(response="utter_reset_done")
        else:
            dispatcher.utter_message(response="utter_reset_cancelled")
        return [AllSlotsReset()]
