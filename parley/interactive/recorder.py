"""What an interactive session saves: a story into a stories file and the confirmed messages as
NLU examples, written into the project's YAML keeping its comments, order and layout (ruamel
round-trip). A new file is created in the Rasa 3.x format when there is none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from parley.project.entities import EntityAnnotation
from parley.project.nlu_data import NLUExample
from parley.project.nlu_writer import annotate

FORMAT_VERSION = "3.1"


@dataclass
class RecordedStory:
    """Steps in the stories-file shape: `{"intent": …, "entities": [...]}`, `{"action": …}`,
    `{"slot_was_set": [{name: value}]}`, `{"active_loop": name|None}`."""

    name: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    examples: list[NLUExample] = field(default_factory=list)

    def user(self, text: str, intent: str, entities: tuple[EntityAnnotation, ...]) -> None:
        step: dict[str, Any] = {"intent": intent}
        if entities:
            step["entities"] = [{e.entity: e.value} for e in entities]
        self.steps.append(step)
        if not text.startswith("/"):  # `/intent` messages teach the NLU nothing
            self.examples.append(NLUExample(text, intent, entities))

    def action(self, name: str) -> None:
        self.steps.append({"action": name})

    def slot(self, name: str, value: Any) -> None:
        self.steps.append({"slot_was_set": [{name: value}]})

    def loop(self, name: str | None) -> None:
        self.steps.append({"active_loop": name})


@dataclass(frozen=True)
class _Layout:
    """The file's own indentation, so a rewrite changes only what was added."""

    indent: int = 2  # of a sequence's items, dash included
    offset: int = 0  # of the dash

    def yaml(self) -> YAML:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096
        mapping = self.indent - self.offset if self.indent > self.offset else self.indent
        yaml.indent(mapping=mapping, sequence=self.indent, offset=self.offset)
        return yaml


def _load(path: Path, key: str) -> tuple[CommentedMap, _Layout]:
    if path.is_file():
        text = path.read_text("utf-8")
        _, indent, offset = load_yaml_guess_indent(text)
        layout = _Layout(indent or 2, offset or 0)
        document = layout.yaml().load(text)
        if isinstance(document, CommentedMap):
            if document.get(key) is None:
                document[key] = CommentedSeq()
            return document, layout
    document = CommentedMap()
    document["version"] = DoubleQuotedScalarString(FORMAT_VERSION)
    document[key] = CommentedSeq()
    return document, _Layout()


def _dump(path: Path, document: CommentedMap, layout: _Layout) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        layout.yaml().dump(document, handle)
    partial.replace(path)


def save_story(story: RecordedStory, path: Path) -> None:
    """Append the story to the `stories:` list of `path`."""
    document, layout = _load(path, "stories")
    steps = CommentedSeq()
    for step in story.steps:
        entry = CommentedMap()
        for key, value in step.items():
            entry[key] = value
        steps.append(entry)
    item = CommentedMap()
    item["story"] = story.name
    item["steps"] = steps
    document["stories"].append(item)
    _dump(path, document, layout)


def save_examples(examples: list[NLUExample], path: Path) -> int:
    """Add the examples to their intents' blocks in `path` (a new intent item when the file has
    none for it); an example already there is not added twice. Returns how many were added."""
    document, layout = _load(path, "nlu")
    items = document["nlu"]
    added = 0
    for example in examples:
        line = annotate(example)
        item = next((i for i in items if i.get("intent") == example.intent), None)
        if item is None:
            item = CommentedMap()
            item["intent"] = example.intent
            item["examples"] = LiteralScalarString("")
            items.append(item)
        block = str(item.get("examples") or "")
        present = {
            ln.strip()[2:].strip() for ln in block.splitlines() if ln.strip().startswith("-")
        }
        if line in present:
            continue
        if block and not block.endswith("\n"):
            block += "\n"
        item["examples"] = LiteralScalarString(f"{block}- {line}\n")
        added += 1
    _dump(path, document, layout)
    return added
