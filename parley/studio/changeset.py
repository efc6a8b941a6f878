"""The change set: NLU annotations and promoted clusters kept for review instead of being written
into `data/`, downloadable as a Rasa NLU file, then cleared or applied to the project.

It is one per deployment (every annotator adds to the same set; each entry records who added
it). Entries point at the stored messages and keep only the intent and the entities' offsets:
the texts are decoded from the tracker store when the file is made, so an encrypted store keeps
what users wrote encrypted, and deleting a conversation takes its messages out of the change set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import studio_changeset
from parley.studio.new_intent import create_intent, domain_intents
from parley.studio.nlu_files import add_examples, known_intents
from parley.studio.queries import decide
from parley.studio.story import annotate
from parley.studio.unhandled import MessageKey, message_texts


@dataclass(frozen=True)
class Entry:
    key: MessageKey
    intent: str
    entities: list[dict[str, Any]]
    new_intent: bool
    added_by: str
    added_at: float
    text: str | None = None  # the marked-up example; None when the message is gone


@dataclass
class Applied:
    """What applying the change set wrote: examples per intent, files, new intents."""

    examples: dict[str, int] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    missing: int = 0  # entries whose conversation was deleted meanwhile


async def keep(
    engine: AsyncEngine,
    key: MessageKey,
    intent: str,
    entities: list[dict[str, Any]],
    new_intent: bool,
    by: str,
) -> None:
    """Put one message in the change set (replacing an earlier entry for it) and record the
    decision, so it leaves the inbox and the clusters."""
    c = studio_changeset.c
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_changeset).where(c.sender_id == key.sender_id, c.sequence == key.sequence)
        )
        await connection.execute(
            studio_changeset.insert().values(
                sender_id=key.sender_id,
                sequence=key.sequence,
                intent=intent,
                entities=json.dumps(entities),
                new_intent=int(new_intent),
                added_by=by,
                added_at=time.time(),
            )
        )
    await decide(engine, key.sender_id, key.sequence, "kept", intent, None, by)


async def entries(engine: AsyncEngine, cipher: EventCipher) -> list[Entry]:
    """The change set in the order entries were added, with their marked-up texts."""
    c = studio_changeset.c
    query = select(
        c.sender_id, c.sequence, c.intent, c.entities, c.new_intent, c.added_by, c.added_at
    ).order_by(c.added_at, c.sender_id, c.sequence)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    keys = [MessageKey(r[0], int(r[1])) for r in rows]
    texts = await message_texts(engine, cipher, keys)
    out = []
    for key, row in zip(keys, rows, strict=True):
        marks = json.loads(row[3])
        text = texts.get(key)
        out.append(
            Entry(
                key,
                row[2],
                marks,
                bool(row[4]),
                row[5],
                float(row[6]),
                None if text is None else " ".join(annotate(text, marks).split()),
            )
        )
    return out


async def new_intents(engine: AsyncEngine) -> set[str]:
    """The names of the intents that promoted clusters in the change set create."""
    c = studio_changeset.c
    async with engine.connect() as connection:
        query = select(c.intent).where(c.new_intent == 1).distinct()
        return set((await connection.execute(query)).scalars())


async def clear(engine: AsyncEngine, keys: Iterable[MessageKey] | None = None) -> int:
    """Empty the change set (or drop `keys` from it); returns how many entries went. The
    messages stay decided ("kept"): they do not come back to the inbox or the clusters."""
    c = studio_changeset.c
    statement = delete(studio_changeset)
    if keys is not None:
        pairs = [(k.sender_id, k.sequence) for k in keys]
        if not pairs:
            return 0
        statement = statement.where(tuple_(c.sender_id, c.sequence).in_(pairs))
    async with writer(engine).begin() as connection:
        result = await connection.execute(statement)
    return int(result.rowcount or 0)


def _by_intent(found: list[Entry]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for entry in found:
        if entry.text:
            groups.setdefault(entry.intent, []).append(entry)
    return groups


def nlu_yaml(found: list[Entry], existing: set[str]) -> str:
    """A Rasa NLU training data file (version "3.1") of the entries: one item per intent, its
    examples with entities marked `[words](entity)`; a comment names the intents not among
    `existing` (the domain needs them)."""
    items = CommentedSeq()
    created = []
    for intent, group in _by_intent(found).items():
        item = CommentedMap()
        item["intent"] = intent
        texts = list(dict.fromkeys(entry.text for entry in group if entry.text))
        item["examples"] = LiteralScalarString("".join(f"- {text}\n" for text in texts))
        items.append(item)
        if intent not in existing:
            created.append(intent)
    document = CommentedMap()
    document["version"] = "3.1"
    document["nlu"] = items
    header = "Made by the Parley studio's change set."
    if created:
        header += "\nNew intents, to add to the domain's intents: " + ", ".join(created)
    document.yaml_set_start_comment(header)
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()


async def apply(engine: AsyncEngine, cipher: EventCipher, project: Path, by: str) -> Applied:
    """Write the change set into the project's data files (and new intents into the domain),
    intent by intent, each intent's entries leaving the change set once written: an error (an
    unreadable file) leaves the intents not yet written in it. Raises NluFileError."""
    found = await entries(engine, cipher)
    applied = Applied(missing=sum(1 for entry in found if entry.text is None))
    for intent, group in _by_intent(found).items():
        texts = [entry.text for entry in group if entry.text]
        exists = intent in known_intents(project) or intent in domain_intents(project)
        if exists:
            written = str(add_examples(project, intent, texts).relative_to(project))
        else:
            written = create_intent(project, intent, texts).nlu_file
            applied.created.append(intent)
        decision = "accepted" if exists else "promoted"
        for entry in group:
            await decide(engine, entry.key.sender_id, entry.key.sequence, decision, intent,
                         written, by)  # fmt: skip
        await clear(engine, [entry.key for entry in group])
        applied.examples[intent] = len(texts)
        applied.files.add(written)
    await clear(engine, [entry.key for entry in found if entry.text is None])
    return applied
