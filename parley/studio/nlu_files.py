"""Reading and writing NLU examples in the project's `data/` YAML, keeping comments, order and
layout (ruamel.yaml round-trip): where an intent's examples live, which examples already say the
same thing, and adding one example to its intent's block."""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString

_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_ITEM_INDENT = re.compile(r"^nlu:\s*\n(?:\s*(?:#.*)?\n)*( *)- ", re.MULTILINE)


class NluFileError(Exception):
    """A data file cannot be read or written; the message names it and what to fix."""


@dataclass(frozen=True)
class Known:
    """An example already in the training data."""

    text: str
    intent: str
    file: str


def normalise(text: str) -> str:
    """Example text without entity annotations, case and extra spaces (for comparisons)."""
    return " ".join(_ANNOTATION.sub(r"\1", text).casefold().split())


def round_trip_yaml() -> YAML:
    """ruamel's round-trip YAML as the studio rewrites project files: comments, order and quotes
    kept, one example per line however long."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def new_document_text(document: CommentedMap) -> str:
    """A new Rasa YAML document (a test story, a change set) as text, in Rasa's own layout."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _data_files(project: Path) -> list[Path]:
    data = project / "data"
    return sorted(p for p in data.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _examples(block: Any) -> list[str]:
    return [
        line.strip()[1:].strip()
        for line in str(block or "").splitlines()
        if line.strip().startswith("-")
    ]


def known_examples(project: Path) -> list[Known]:
    """Every intent example of the project's data files."""
    found: list[Known] = []
    for path in _data_files(project):
        document = _load(path)
        items = document.get("nlu") if isinstance(document, dict) else None
        for item in items or []:
            if isinstance(item, dict) and item.get("intent"):
                rel = str(path.relative_to(project))
                found.extend(
                    Known(t, str(item["intent"]), rel) for t in _examples(item.get("examples"))
                )
    return found


def known_intents(project: Path) -> list[str]:
    return sorted({k.intent for k in known_examples(project)})


def known_entities(project: Path) -> list[str]:
    """Entity names of the project's domain (domain.yml, or the files of a domain/ folder)."""
    paths = [project / "domain.yml", project / "domain.yaml"]
    folder = project / "domain"
    if folder.is_dir():
        paths += sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml"))
    names: set[str] = set()
    for path in paths:
        if not path.is_file():
            continue
        document = _load(path)
        for entity in (document.get("entities") if isinstance(document, dict) else None) or []:
            name = next(iter(entity), None) if isinstance(entity, dict) else entity
            if name:
                names.add(str(name))
    return sorted(names)


def problems(text: str, intent: str, known: list[Known]) -> list[str]:
    """Duplicates (same text, same intent) and contradictions (same text, another intent)."""
    wanted = normalise(text)
    out = []
    for example in known:
        if normalise(example.text) != wanted:
            continue
        if example.intent == intent:
            out.append(f"duplicate: already an example of {intent} in {example.file}")
        else:
            out.append(
                f"contradiction: {example.text!r} is an example of {example.intent} "
                f"in {example.file}"
            )
    return out


def _load(path: Path) -> Any:
    try:
        return round_trip_yaml().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises many kinds; all mean the file is unusable
        raise NluFileError(f"{path}: cannot be read as YAML ({exc}); fix the file first") from exc


def target_file(project: Path, intent: str) -> Path:
    """The file that holds `intent`'s examples, else the first with an `nlu:` section, else
    data/nlu.yml."""
    first_nlu = None
    for path in _data_files(project):
        document = _load(path)
        if not isinstance(document, dict) or "nlu" not in document:
            continue
        first_nlu = first_nlu or path
        for item in document.get("nlu") or []:
            if isinstance(item, dict) and item.get("intent") == intent:
                return path
    return first_nlu or project / "data" / "nlu.yml"


def add_example(project: Path, intent: str, text: str) -> Path:
    """Append `text` to `intent`'s examples (a new intent item at the end when the file has none)
    and return the file written. Comments, key order, quoting and indentation are kept."""
    return add_examples(project, intent, [text])


def add_examples(project: Path, intent: str, texts: list[str]) -> Path:
    """Append each of `texts` not already there to `intent`'s examples in one write (see
    `add_example`)."""
    texts = [" ".join(text.split()) for text in texts]
    if not texts or not all(texts):
        raise NluFileError("an empty message cannot become an example")
    path = target_file(project, intent)
    original = path.read_text(encoding="utf-8") if path.is_file() else 'version: "3.1"\nnlu:\n'
    yaml = round_trip_yaml()
    document = yaml.load(original)
    if not isinstance(document, CommentedMap):
        raise NluFileError(f"{path}: expected a mapping with an nlu: list")
    if document.get("nlu") is None:
        document["nlu"] = []
    items = document["nlu"]
    item = next((i for i in items if isinstance(i, dict) and i.get("intent") == intent), None)
    if item is None:
        item = CommentedMap()
        item["intent"] = intent
        item["examples"] = LiteralScalarString("")
        items.append(item)
    block = str(item.get("examples") or "")
    present = {normalise(e) for e in _examples(block)}
    for text in texts:
        if normalise(text) not in present:
            present.add(normalise(text))
            if block and not block.endswith("\n"):
                block += "\n"
            block += f"- {text}\n"
    _replace_scalar(item, "examples", block)
    match = _ITEM_INDENT.search(original)
    offset = len(match.group(1)) if match else 2
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    out = StringIO()
    yaml.dump(document, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".parley-tmp")
    temporary.write_text(out.getvalue(), encoding="utf-8")
    temporary.replace(path)  # whole or not at all: a crash leaves the old file
    return path


def _replace_scalar(item: Any, key: str, value: str) -> None:
    """Set a literal block scalar, keeping the comment (and blank lines) that followed the old one."""
    comment = item.ca.items.get(key)
    item[key] = LiteralScalarString(value)
    if comment is not None:
        item.ca.items[key] = comment
