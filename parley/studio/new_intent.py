"""A new intent from the studio: its name checked, its examples written into the project's NLU
YAML and its name added to the domain's `intents:` list, both with ruamel.yaml round-trip
(comments, order and layout of the files are kept)."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from parley.studio.nlu_files import NluFileError, add_examples, known_intents, round_trip_yaml

# Rasa intent names: no spaces, no "/" (that makes a retrieval intent, which needs responses).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")
_RESERVED_PREFIXES = ("utter_", "action_")
_LIST_INDENT = re.compile(r"^intents:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*( *)- ", re.MULTILINE)


@dataclass(frozen=True)
class NewIntent:
    """Where a promoted intent was written (paths relative to the project)."""

    intent: str
    nlu_file: str
    domain_file: str
    examples: int


def domain_files(project: Path) -> list[Path]:
    """domain.yml / domain.yaml, else the YAML files of a domain/ folder."""
    single = [p for p in (project / "domain.yml", project / "domain.yaml") if p.is_file()]
    folder = project / "domain"
    if single or not folder.is_dir():
        return single
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _load(path: Path) -> Any:
    try:
        return round_trip_yaml().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises many kinds; all mean the file is unusable
        raise NluFileError(f"{path}: cannot be read as YAML ({exc}); fix the file first") from exc


def _intent_name(entry: Any) -> str | None:
    """`greet` or `{greet: {use_entities: [...]}}`."""
    if isinstance(entry, dict):
        return str(next(iter(entry), "")) or None
    return str(entry) if entry is not None else None


def domain_intents(project: Path) -> set[str]:
    names: set[str] = set()
    for path in domain_files(project):
        document = _load(path)
        for entry in (document.get("intents") if isinstance(document, dict) else None) or []:
            name = _intent_name(entry)
            if name:
                names.add(name)
    return names


def name_problem(project: Path, intent: str, also_taken: set[str] | None = None) -> str | None:
    """Why `intent` cannot name a new intent (None when it can)."""
    if not _NAME.match(intent):
        return (
            f"{intent!r} is not a valid intent name: start with a letter, then letters, digits,"
            " '_' or '-' (at most 100 characters, no spaces or '/')"
        )
    if intent.startswith(_RESERVED_PREFIXES):
        return f"{intent!r}: names starting with utter_ or action_ are for responses and actions"
    if intent in known_intents(project) or intent in domain_intents(project):
        return f"the intent {intent!r} already exists; choose another name"
    if intent in (also_taken or set()):
        return f"the intent {intent!r} is already in the change set; choose another name"
    return None


def _domain_with(project: Path, intent: str) -> tuple[Path, str]:
    """The domain file that gets `intent` and its new text (nothing written yet)."""
    paths = domain_files(project)
    if not paths:
        raise NluFileError(f"{project}: no domain.yml or domain/ folder to add the intent to")
    path = next(
        (p for p in paths if isinstance(_load(p), dict) and "intents" in _load(p)), paths[0]
    )
    original = path.read_text(encoding="utf-8")
    yaml = round_trip_yaml()
    document = yaml.load(original)
    if not isinstance(document, CommentedMap):
        raise NluFileError(f"{path}: expected a mapping with an intents: list")
    if document.get("intents") is None:
        document["intents"] = CommentedSeq()
    if not isinstance(document["intents"], list):
        raise NluFileError(f"{path}: intents: is not a list")
    document["intents"].append(intent)
    match = _LIST_INDENT.search(original)
    offset = len(match.group(1)) if match else 2
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    out = StringIO()
    yaml.dump(document, out)
    return path, out.getvalue()


@contextmanager
def project_write_lock(project: Path) -> Iterator[None]:
    """One studio writer of the project's data and domain files at a time, across the processes
    of this host (`parley run --workers N`): an exclusive lock on the project folder, which the
    kernel frees if the holder dies. Not reentrant: take it once, around the whole write."""
    fd = os.open(project, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # writes take milliseconds: waiting here is short
        yield
    finally:
        os.close(fd)  # releases the lock


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".parley-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)  # whole or not at all: a crash leaves the old file


def create_intent(
    project: Path, intent: str, examples: list[str], also_taken: set[str] | None = None
) -> NewIntent:
    """Write `examples` as the new intent `intent` and add it to the domain.

    Raises NluFileError, leaving both files untouched, when the name is taken or invalid,
    there are no examples, or a file cannot be read."""
    problem = name_problem(project, intent, also_taken)
    if problem:
        raise NluFileError(problem)
    if not examples:
        raise NluFileError("choose at least one message to become an example")
    domain_path, domain_text = _domain_with(project, intent)  # fails before anything is written
    nlu_path = add_examples(project, intent, examples)
    _replace(domain_path, domain_text)
    return NewIntent(
        intent,
        str(nlu_path.relative_to(project)),
        str(domain_path.relative_to(project)),
        len(examples),
    )
