"""Slot names and helpers of the knowledge-base action (rasa_sdk 3.6 semantics)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from parley.sdk.events import EventType, SlotSet
from parley.sdk.tracker import Tracker

SLOT_MENTION = "mention"
SLOT_OBJECT_TYPE = "object_type"
SLOT_ATTRIBUTE = "attribute"
SLOT_LISTED_OBJECTS = "knowledge_base_listed_objects"
SLOT_LAST_OBJECT = "knowledge_base_last_object"
SLOT_LAST_OBJECT_TYPE = "knowledge_base_last_object_type"


async def call_potential_coroutine(value: Any) -> Any:
    """A method's result, awaited when the method was `async`."""
    return await value if inspect.isawaitable(value) else value


def get_object_name(
    tracker: Tracker,
    ordinal_mention_mapping: dict[str, Callable[[list[Any]], Any]],
    use_last_object_mention: bool = True,
) -> Any:
    """The key of the object the user means: by a mention ("the first one", "it"), by its name
    in the slot named after the object type, or else (if allowed) the last object talked of."""
    if tracker.get_slot(SLOT_MENTION):
        return resolve_mention(tracker, ordinal_mention_mapping)
    object_type = tracker.get_slot(SLOT_OBJECT_TYPE)
    object_name = tracker.get_slot(object_type) if object_type else None
    if object_name:
        return object_name
    return tracker.get_slot(SLOT_LAST_OBJECT) if use_last_object_mention else None


def resolve_mention(
    tracker: Tracker, ordinal_mention_mapping: dict[str, Callable[[list[Any]], Any]]
) -> Any:
    """An ordinal mention picks from the listed objects; any other mention ("it") is the last
    object, when it is of the type asked about."""
    mention = tracker.get_slot(SLOT_MENTION)
    if not mention:
        return None
    listed = tracker.get_slot(SLOT_LISTED_OBJECTS)
    if listed and mention in ordinal_mention_mapping:
        try:
            return ordinal_mention_mapping[mention](listed)
        except IndexError:  # "the fifth one" of three
            return None
    if tracker.get_slot(SLOT_OBJECT_TYPE) == tracker.get_slot(SLOT_LAST_OBJECT_TYPE):
        return tracker.get_slot(SLOT_LAST_OBJECT)
    return None


def get_attribute_slots(tracker: Tracker, object_attributes: list[str]) -> list[dict[str, Any]]:
    """`{"name", "value"}` of every attribute of the object type whose slot is set: the filter
    of a listing ("Italian restaurants" -> cuisine = Italian)."""
    return [
        {"name": attribute, "value": tracker.get_slot(attribute)}
        for attribute in object_attributes
        if attribute in tracker.slots and tracker.get_slot(attribute) is not None
    ]


def reset_attribute_slots(tracker: Tracker, object_attributes: list[str]) -> list[EventType]:
    """Unset the attribute slots used as a filter, so they don't filter the next request."""
    return [
        SlotSet(attribute, None)
        for attribute in object_attributes
        if attribute in tracker.slots and tracker.get_slot(attribute) is not None
    ]
