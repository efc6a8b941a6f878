"""concertbot's five custom actions, from ../shared/examples/concertbot/README.md."""

from __future__ import annotations

from typing import Any

from parley.sdk import Action, CollectingDispatcher, Tracker
from parley.sdk.events import SlotSet

CONCERTS = [{"artist": "Foo Fighters", "reviews": 4.5}, {"artist": "Katy Perry", "reviews": 5.0}]
VENUES = [{"name": "Big Arena", "reviews": 4.5}, {"name": "Rock Cellar", "reviews": 5.0}]


class SearchConcerts(Action):
    def name(self) -> str:
        return "action_search_concerts"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text=", ".join(c["artist"] for c in CONCERTS))
        return [SlotSet("concerts", CONCERTS)]


class SearchVenues(Action):
    def name(self) -> str:
        return "action_search_venues"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="here are some venues I found")
        dispatcher.utter_message(text=", ".join(v["name"] for v in VENUES))
        return [SlotSet("venues", VENUES)]


class ShowConcertReviews(Action):
    def name(self) -> str:
        return "action_show_concert_reviews"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text=f"concerts from slots: {tracker.get_slot('concerts')}")
        return []


class ShowVenueReviews(Action):
    def name(self) -> str:
        return "action_show_venue_reviews"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text=f"venues from slots: {tracker.get_slot('venues')}")
        return []


class SetMusicPreference(Action):
    def name(self) -> str:
        return "action_set_music_preference"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "affirm":
            return [SlotSet("likes_music", True)]
        if intent == "deny":
            return [SlotSet("likes_music", False)]
        return []
