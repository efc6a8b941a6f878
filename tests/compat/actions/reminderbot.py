"""reminderbot's five custom actions, from ../shared/examples/reminderbot/README.md."""

from __future__ import annotations

import datetime
from typing import Any

from parley.sdk import Action, CollectingDispatcher, Tracker
from parley.sdk.events import ReminderCancelled, ReminderScheduled


class SetReminder(Action):
    def name(self) -> str:
        return "action_set_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="I will remind you in 5 seconds.")
        when = datetime.datetime.now() + datetime.timedelta(seconds=5)
        entities = tracker.latest_message.get("entities") or []
        reminder = ReminderScheduled(
            "EXTERNAL_reminder",
            trigger_date_time=when,
            entities=entities,
            name="my_reminder",
            kill_on_user_message=False,
        )
        return [reminder]


class ReactToReminder(Action):
    def name(self) -> str:
        return "action_react_to_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        name = tracker.get_slot("PERSON") or "someone"
        dispatcher.utter_message(text=f"Remember to call {name}!")
        return []


class TellID(Action):
    def name(self) -> str:
        return "action_tell_id"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        sender = tracker.sender_id
        dispatcher.utter_message(text=f"The ID of this conversation is '{sender}'.")
        dispatcher.utter_message(
            text="Trigger an intent with: \n"
            'curl -H "Content-Type: application/json" '
            '-X POST -d \'{"name": "EXTERNAL_dry_plant", "entities": {"plant": "Orchid"}}\' '
            f'"http://localhost:5005/conversations/{sender}/trigger_intent?output_channel=latest"'
        )
        return []


class WarnDry(Action):
    def name(self) -> str:
        return "action_warn_dry"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        plants = [
            e.get("value")
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == "plant"
        ]
        dispatcher.utter_message(
            text=f"Your {plants[-1] if plants else 'someone'} needs some water!"
        )
        return []


class ForgetReminders(Action):
    def name(self) -> str:
        return "action_forget_reminders"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="Okay, I'll cancel all your reminders.")
        return [ReminderCancelled()]
