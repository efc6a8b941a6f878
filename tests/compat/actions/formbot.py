"""formbot's `validate_restaurant_form`, from ../shared/examples/formbot/README.md."""

from __future__ import annotations

from typing import Any

from parley.sdk import CollectingDispatcher, FormValidationAction, Tracker

CUISINES = ("caribbean", "chinese", "french", "greek", "indian", "italian", "mexican")


class ValidateRestaurantForm(FormValidationAction):
    def name(self) -> str:
        return "validate_restaurant_form"

    def validate_cuisine(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        if isinstance(value, str) and value.lower() in CUISINES:
            return {"cuisine": value}
        dispatcher.utter_message(response="utter_wrong_cuisine")
        return {"cuisine": None}

    def validate_num_people(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        try:
            if int(str(value)) > 0:
                return {"num_people": value}
        except ValueError:
            pass
        dispatcher.utter_message(response="utter_wrong_num_people")
        return {"num_people": None}

    def validate_outdoor_seating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"outdoor_seating": value}
        if isinstance(value, str):
            if "out" in value:
                return {"outdoor_seating": True}
            if "in" in value:
                return {"outdoor_seating": False}
        dispatcher.utter_message(response="utter_wrong_outdoor_seating")
        return {"outdoor_seating": None}
