"""Where the objects live: `KnowledgeBase` (what an action queries) and the JSON-file one.

The JSON file maps each object type to a list of objects (dicts). Each type has a key
attribute (`id` unless set) and a representation function (the object's `name` unless set).
Methods may be overridden as plain or `async` functions; the action awaits what needs it.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

Object = dict[str, Any]
Representation = Callable[[Object], str]


def _ordinal(index: int) -> Callable[[list[Any]], Any]:
    return lambda listed: listed[index]


class KnowledgeBase:
    """A store of typed objects; subclass it for a database or an API."""

    def __init__(self) -> None:
        # what a `mention` entity value ("1", "2", ..., "ANY", "LAST") picks from a listed result
        self.ordinal_mention_mapping: dict[str, Callable[[list[Any]], Any]] = {
            str(n): _ordinal(n - 1) for n in range(1, 11)
        }
        self.ordinal_mention_mapping["ANY"] = random.choice
        self.ordinal_mention_mapping["LAST"] = _ordinal(-1)
        self.key_attribute: defaultdict[str, str] = defaultdict(lambda: "id")
        self.representation_function: defaultdict[str, Representation] = defaultdict(
            lambda: lambda obj: str(obj["name"])
        )

    def get_attributes_of_object(self, object_type: str) -> Any:
        """The attribute names of `object_type` (may be a coroutine)."""
        raise NotImplementedError("Method is not implemented.")

    def get_key_attribute_of_object(self, object_type: str) -> str:
        return self.key_attribute[object_type]

    def get_representation_function_of_object(self, object_type: str) -> Representation:
        return self.representation_function[object_type]

    def set_ordinal_mention_mapping(self, mapping: dict[str, Callable[[list[Any]], Any]]) -> None:
        self.ordinal_mention_mapping = mapping

    def get_objects(
        self, object_type: str, attributes: list[dict[str, Any]], limit: int = 5
    ) -> Any:
        """At most `limit` objects of `object_type` whose attributes equal every given
        `{"name", "value"}` (may be a coroutine)."""
        raise NotImplementedError("Method is not implemented.")

    def get_object(self, object_type: str, object_identifier: Any) -> Any:
        """The one object whose key attribute, or else representation, matches (or None)."""
        raise NotImplementedError("Method is not implemented.")


class InMemoryKnowledgeBase(KnowledgeBase):
    """Objects read once from a JSON file: `{"restaurant": [{"id": 0, "name": ...}, ...]}`."""

    def __init__(self, data_file: str | Path) -> None:
        self.data_file = str(data_file)
        self.data: dict[str, list[Object]] = {}
        self.load()
        super().__init__()

    def load(self) -> None:
        """Read the file; ValueError saying which file when it is missing or not JSON."""
        try:
            content = Path(self.data_file).read_text(encoding="utf-8")
        except OSError:
            raise ValueError(f"File '{self.data_file}' does not exist.") from None
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise ValueError(
                f"Failed to read json from '{Path(self.data_file).resolve()}'. Error: {exc}"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ValueError(f"'{self.data_file}' must map each object type to a list of objects")
        self.data = data

    def set_representation_function_of_object(
        self, object_type: str, representation_function: Representation
    ) -> None:
        self.representation_function[object_type] = representation_function

    def set_key_attribute_of_object(self, object_type: str, key_attribute: str) -> None:
        self.key_attribute[object_type] = key_attribute

    async def get_attributes_of_object(self, object_type: str) -> list[str]:
        objects = self.data.get(object_type) or []
        return list(objects[0]) if objects else []

    async def get_objects(
        self, object_type: str, attributes: list[dict[str, Any]], limit: int = 5
    ) -> list[Object]:
        objects = [
            obj
            for obj in self.data.get(object_type, [])
            if all(obj.get(a["name"]) == a["value"] for a in attributes)
        ]
        random.shuffle(objects)  # as rasa_sdk: which `limit` objects are listed varies
        return objects[:limit]

    async def get_object(self, object_type: str, object_identifier: Any) -> Object | None:
        if object_type not in self.data:
            return None
        objects = self.data[object_type]
        key = self.get_key_attribute_of_object(object_type)
        wanted = str(object_identifier).lower()
        found = [obj for obj in objects if str(obj.get(key)).lower() == wanted]
        if not found:  # named by its representation ("PastaBar") rather than its key
            represent = self.get_representation_function_of_object(object_type)
            found = [obj for obj in objects if wanted in str(represent(obj)).lower()]
        return found[0] if len(found) == 1 else None

    def get_object_types(self) -> list[str]:
        return list(self.data)
