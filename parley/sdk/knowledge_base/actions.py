"""`ActionQueryKnowledgeBase`: lists objects of a type, or tells one attribute of one object.

Subclass it with your knowledge base (`super().__init__(InMemoryKnowledgeBase("data.json"))`)
and declare the slots `object_type`, `attribute`, `mention`, `knowledge_base_listed_objects`,
`knowledge_base_last_object`, `knowledge_base_last_object_type` (plus one slot per object type
and attribute you filter by). Replies and slot events follow rasa_sdk 3.6 exactly;
`utter_objects` and `utter_attribute_value` may be overridden (plain or async) to word them.
"""

from __future__ import annotations

from typing import Any

from parley.sdk.dispatcher import CollectingDispatcher
from parley.sdk.events import EventType, SlotSet
from parley.sdk.interfaces import Action, DomainDict
from parley.sdk.knowledge_base.storage import KnowledgeBase, Object
from parley.sdk.knowledge_base.utils import (
    SLOT_ATTRIBUTE,
    SLOT_LAST_OBJECT,
    SLOT_LAST_OBJECT_TYPE,
    SLOT_LISTED_OBJECTS,
    SLOT_MENTION,
    SLOT_OBJECT_TYPE,
    call_potential_coroutine,
    get_attribute_slots,
    get_object_name,
    reset_attribute_slots,
)
from parley.sdk.tracker import Tracker

REPHRASE = "utter_ask_rephrase"


class ActionQueryKnowledgeBase(Action):
    """Answers from `knowledge_base`; `use_last_object_mention`: a question without a named
    object is about the last object talked of."""

    def __init__(self, knowledge_base: KnowledgeBase, use_last_object_mention: bool = True) -> None:
        self.knowledge_base = knowledge_base
        self.use_last_object_mention = use_last_object_mention

    def name(self) -> str:
        return "action_query_knowledge_base"

    def utter_attribute_value(
        self,
        dispatcher: CollectingDispatcher,
        object_name: str,
        attribute_name: str,
        attribute_value: Any,
    ) -> Any:  # None; an override may be async
        if attribute_value:
            dispatcher.utter_message(
                text=f"'{object_name}' has the value '{attribute_value}'"
                f" for attribute '{attribute_name}'."
            )
        else:
            dispatcher.utter_message(
                text=f"Did not find a valid value for attribute '{attribute_name}'"
                f" for object '{object_name}'."
            )

    async def utter_objects(
        self, dispatcher: CollectingDispatcher, object_type: str, objects: list[Object]
    ) -> None:
        if not objects:
            dispatcher.utter_message(text=f"I could not find any objects of type '{object_type}'.")
            return
        dispatcher.utter_message(text=f"Found the following objects of type '{object_type}':")
        represent = await call_potential_coroutine(
            self.knowledge_base.get_representation_function_of_object(object_type)
        )
        for i, obj in enumerate(objects, 1):
            dispatcher.utter_message(text=f"{i}: {represent(obj)}")

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A new object type or no attribute asked: list objects (filtered by the attribute
        slots set); otherwise the attribute's value of the object meant."""
        object_type = tracker.get_slot(SLOT_OBJECT_TYPE)
        attribute = tracker.get_slot(SLOT_ATTRIBUTE)
        if not object_type:  # the type is needed to query anything
            dispatcher.utter_message(response=REPHRASE)
            return []
        if not attribute or object_type != tracker.get_slot(SLOT_LAST_OBJECT_TYPE):
            return await self._query_objects(dispatcher, object_type, tracker)
        return await self._query_attribute(dispatcher, object_type, attribute, tracker)

    async def _query_objects(
        self, dispatcher: CollectingDispatcher, object_type: str, tracker: Tracker
    ) -> list[EventType]:
        kb = self.knowledge_base
        object_attributes = await call_potential_coroutine(kb.get_attributes_of_object(object_type))
        attributes = get_attribute_slots(tracker, object_attributes)
        objects = await call_potential_coroutine(kb.get_objects(object_type, attributes))
        await call_potential_coroutine(self.utter_objects(dispatcher, object_type, objects))
        if not objects:
            return reset_attribute_slots(tracker, object_attributes)
        key = await call_potential_coroutine(kb.get_key_attribute_of_object(object_type))
        return [
            SlotSet(SLOT_OBJECT_TYPE, object_type),
            SlotSet(SLOT_MENTION, None),
            SlotSet(SLOT_ATTRIBUTE, None),
            SlotSet(SLOT_LAST_OBJECT, objects[0][key] if len(objects) == 1 else None),
            SlotSet(SLOT_LAST_OBJECT_TYPE, object_type),
            SlotSet(SLOT_LISTED_OBJECTS, [obj[key] for obj in objects]),
            *reset_attribute_slots(tracker, object_attributes),
        ]

    async def _query_attribute(
        self, dispatcher: CollectingDispatcher, object_type: str, attribute: str, tracker: Tracker
    ) -> list[EventType]:
        kb = self.knowledge_base
        object_name = get_object_name(
            tracker, kb.ordinal_mention_mapping, self.use_last_object_mention
        )
        found = None
        if object_name is not None:
            found = await call_potential_coroutine(kb.get_object(object_type, object_name))
        if not found or attribute not in found:
            dispatcher.utter_message(response=REPHRASE)
            return [SlotSet(SLOT_MENTION, None)]
        represent = await call_potential_coroutine(
            kb.get_representation_function_of_object(object_type)
        )
        key = await call_potential_coroutine(kb.get_key_attribute_of_object(object_type))
        await call_potential_coroutine(
            self.utter_attribute_value(dispatcher, represent(found), attribute, found[attribute])
        )
        return [
            SlotSet(SLOT_OBJECT_TYPE, object_type),
            SlotSet(SLOT_ATTRIBUTE, None),
            SlotSet(SLOT_MENTION, None),
            SlotSet(SLOT_LAST_OBJECT, found[key]),
            SlotSet(SLOT_LAST_OBJECT_TYPE, object_type),
        ]
