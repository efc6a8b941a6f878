"""ActionQueryKnowledgeBase over an in-memory JSON knowledge base (rasa_sdk 3.6 semantics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parley.action_runners.inprocess import InProcessActionRunner
from parley.agent import Agent
from parley.project import load_project
from parley.sdk import ActionExecutor, CollectingDispatcher, Tracker
from parley.sdk.knowledge_base import ActionQueryKnowledgeBase, InMemoryKnowledgeBase
from parley.sdk.knowledge_base.storage import KnowledgeBase
from parley.training import train_project

KBBOT = Path(__file__).resolve().parents[1] / "fixtures" / "kbbot"
DATA = KBBOT / "knowledge_base_data.json"
REPHRASE = [{"template": "utter_ask_rephrase", "response": "utter_ask_rephrase"}]


class ActionMyKB(ActionQueryKnowledgeBase):
    def __init__(self) -> None:
        super().__init__(InMemoryKnowledgeBase(DATA))


def _tracker(**slots: Any) -> Tracker:
    return Tracker("ann", slots, {"entities": []}, [], False, None, {}, "action_listen")


async def _run(action: ActionQueryKnowledgeBase, **slots: Any) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, _tracker(**slots), {})
    texts = [m.get("text") or m.get("response") for m in dispatcher.messages]
    return texts, {e["name"]: e["value"] for e in events}


async def test_listing_filters_by_the_attribute_slots_and_remembers_what_was_listed() -> None:
    texts, slots = await _run(
        ActionMyKB(), object_type="restaurant", cuisine="Italian", attribute=None
    )
    assert texts[0] == "Found the following objects of type 'restaurant':"
    numbered = [text.split(": ", 1) for text in texts[1:]]  # the order is random, as in rasa_sdk
    assert [n for n, _ in numbered] == ["1", "2"]
    assert sorted(name for _, name in numbered) == ["Donath", "I due forni"]
    listed = slots["knowledge_base_listed_objects"]
    assert sorted(listed) == [0, 2]
    assert slots["knowledge_base_last_object"] is None  # more than one listed
    assert slots["knowledge_base_last_object_type"] == "restaurant"
    assert slots["cuisine"] is None  # the filter is reset for the next request
    assert slots["object_type"] == "restaurant" and slots["mention"] is None


async def test_one_object_found_becomes_the_last_object() -> None:
    _, slots = await _run(ActionMyKB(), object_type="restaurant", cuisine="Mexican")
    assert slots["knowledge_base_last_object"] == 1


async def test_nothing_found_says_so_and_resets_only_the_filter() -> None:
    texts, slots = await _run(ActionMyKB(), object_type="restaurant", cuisine="Thai")
    assert texts == ["I could not find any objects of type 'restaurant'."]
    assert slots == {"cuisine": None}


async def test_an_ordinal_mention_picks_from_the_listed_objects() -> None:
    texts, slots = await _run(
        ActionMyKB(),
        object_type="restaurant",
        attribute="price-range",
        mention="2",
        knowledge_base_listed_objects=[1, 0],
        knowledge_base_last_object_type="restaurant",
    )
    assert texts == ["'Donath' has the value 'mid-range' for attribute 'price-range'."]
    assert slots == {
        "object_type": "restaurant",
        "attribute": None,
        "mention": None,
        "knowledge_base_last_object": 0,
        "knowledge_base_last_object_type": "restaurant",
    }


async def test_it_means_the_last_object_and_a_name_is_matched_by_representation() -> None:
    texts, _ = await _run(
        ActionMyKB(),
        object_type="restaurant",
        attribute="cuisine",
        mention="it",
        knowledge_base_last_object=1,
        knowledge_base_last_object_type="restaurant",
    )
    assert texts == ["'Berlin Burrito Company' has the value 'Mexican' for attribute 'cuisine'."]
    texts, slots = await _run(
        ActionMyKB(),
        object_type="restaurant",
        attribute="outside-seating",
        restaurant="burrito",
        knowledge_base_last_object_type="restaurant",
    )
    assert texts == [
        "Did not find a valid value for attribute 'outside-seating'"
        " for object 'Berlin Burrito Company'."
    ]  # False is no valid value, as in rasa_sdk
    assert slots["knowledge_base_last_object"] == 1


@pytest.mark.parametrize(
    "slots",
    [
        {"attribute": "cuisine"},  # no object type
        # an ambiguous name ("Hilton" is two hotels)
        {"object_type": "hotel", "attribute": "city", "hotel": "Hilton",
         "knowledge_base_last_object_type": "hotel"},
        # "the fifth one" of two
        {"object_type": "hotel", "attribute": "city", "mention": "5",
         "knowledge_base_listed_objects": [0, 1], "knowledge_base_last_object_type": "hotel"},
    ],
)  # fmt: skip
async def test_what_cannot_be_answered_asks_to_rephrase(slots: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionMyKB().run(dispatcher, _tracker(**slots), {})
    assert [{k: m[k] for k in ("template", "response")} for m in dispatcher.messages] == REPHRASE
    assert events in ([], [{"event": "slot", "name": "mention", "value": None, "timestamp": None}])


async def test_a_knowledge_base_with_plain_methods_and_its_own_key_and_wording() -> None:
    class Catalogue(KnowledgeBase):
        def __init__(self) -> None:
            super().__init__()
            self.key_attribute["book"] = "isbn"
            self.representation_function["book"] = lambda obj: obj["title"]

        def get_attributes_of_object(self, object_type: str) -> list[str]:
            return ["isbn", "title", "author"]

        def get_objects(self, object_type: str, attributes: Any, limit: int = 5) -> Any:
            return [{"isbn": "42", "title": "Dune", "author": "Herbert"}]

    class ActionBooks(ActionQueryKnowledgeBase):
        def __init__(self) -> None:
            super().__init__(Catalogue())

        def utter_objects(self, dispatcher: Any, object_type: str, objects: Any) -> None:
            dispatcher.utter_message(text=", ".join(o["title"] for o in objects))

    texts, slots = await _run(ActionBooks(), object_type="book")
    assert texts == ["Dune"]
    assert slots["knowledge_base_last_object"] == "42"


def test_a_bad_knowledge_base_file_says_which_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        InMemoryKnowledgeBase(tmp_path / "missing.json")
    bad = tmp_path / "kb.json"
    bad.write_text(json.dumps({"restaurant": {"id": 0}}))
    with pytest.raises(ValueError, match=r"kb\.json' must map each object type to a list"):
        InMemoryKnowledgeBase(bad)


async def test_a_conversation_lists_then_answers_about_the_first_one_and_it(
    tmp_path: Path,
) -> None:
    model = train_project(load_project(KBBOT), tmp_path).model
    executor = ActionExecutor()
    executor.register_action(ActionMyKB())
    agent = Agent.load(model, action_runner=InProcessActionRunner(executor))
    listed = [r["text"] for r in await agent.handle_message("ann", "list Italian restaurants")]
    assert listed[0] == "Found the following objects of type 'restaurant':"
    first = listed[1].removeprefix("1: ")
    assert {first, listed[2].removeprefix("2: ")} == {"Donath", "I due forni"}
    reply = await agent.handle_message("ann", "what is the price range of the first one?")
    assert [r["text"] for r in reply] == [
        f"'{first}' has the value 'mid-range' for attribute 'price-range'."
    ]
    reply = await agent.handle_message("ann", "does it have outside seating?")
    assert [r["text"] for r in reply] == [
        f"'{first}' has the value 'True' for attribute 'outside-seating'."
    ]
