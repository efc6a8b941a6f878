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
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import studio_annotations, studio_changeset
from parley.studio.new_intent import create_intent, domain_intents, project_write_lock
from parley.studio.nlu_files import add_examples, known_intents, new_document_text
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
    marked: dict[MessageKey, list[dict[str, Any]]],
    intent: str,
    new_intent: bool,
    by: str,
) -> None:
    """Put messages (each with its entity marks) in the change set as examples of `intent`,
    replacing earlier entries for them, and record the decisions, so they leave the inbox and
    the clusters."""
    c = studio_changeset.c
    pairs = [(key.sender_id, key.sequence) for key in marked]
    now = time.time()
    async with writer(engine).begin() as connection:
        await connection.execute(
            delete(studio_changeset).where(tuple_(c.sender_id, c.sequence).in_(pairs))
        )
        await connection.execute(
            studio_changeset.insert(),
            [
                {"sender_id": key.sender_id, "sequence": key.sequence, "intent": intent,
                 "entities": json.dumps(marks), "new_intent": int(new_intent), "added_by": by,
                 "added_at": now}
                for key, marks in marked.items()
            ],
        )  # fmt: skip
    await record_decisions(engine, list(marked), "kept", intent, None, by)


async def record_decisions(
    engine: AsyncEngine,
    keys: list[MessageKey],
    decision: str,
    intent: str,
    file: str | None,
    by: str,
) -> None:
    """Record one decision on many messages in one transaction (as `queries.decide` does for
    one)."""
    a = studio_annotations.c
    now = time.time()
    async with writer(engine).begin() as connection:
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            pairs = [(key.sender_id, key.sequence) for key in chunk]
            await connection.execute(
                delete(studio_annotations).where(tuple_(a.sender_id, a.sequence).in_(pairs))
            )
            await connection.execute(
                studio_annotations.insert(),
                [
                    {"sender_id": key.sender_id, "sequence": key.sequence, "decision": decision,
                     "intent": intent, "file": file, "decided_by": by, "decided_at": now}
                    for key in chunk
                ],
            )  # fmt: skip


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


async def take_back(engine: AsyncEngine, key: MessageKey) -> bool:
    """Remove one message from the change set and undo its "kept" decision, so it is back in
    the inbox or the clusters; False when it was not in the change set."""
    c, a = studio_changeset.c, studio_annotations.c
    async with writer(engine).begin() as connection:
        removed = await connection.execute(
            delete(studio_changeset).where(c.sender_id == key.sender_id, c.sequence == key.sequence)
        )
        await connection.execute(
            delete(studio_annotations).where(
                a.sender_id == key.sender_id, a.sequence == key.sequence, a.decision == "kept"
            )
        )
    return bool(removed.rowcount)


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
    return new_document_text(document)


async def apply(engine: AsyncEngine, cipher: EventCipher, project: Path, by: str) -> Applied:
    """Write the change set into the project's data files (and new intents into the domain),
    intent by intent, each intent's entries leaving the change set once written: an error (an
    unreadable file) leaves the intents not yet written in it. Raises NluFileError."""
    found = await entries(engine, cipher)
    applied = Applied(missing=sum(1 for entry in found if entry.text is None))
    for intent, group in _by_intent(found).items():
        texts = [entry.text for entry in group if entry.text]
        with project_write_lock(project):
            exists = intent in known_intents(project) or intent in domain_intents(project)
            # only promoted clusters create intents; inbox corrections are written as the inbox does
            create = not exists and any(entry.new_intent for entry in group)
            if create:
                written = create_intent(project, intent, texts).nlu_file
                applied.created.append(intent)
            else:
                written = str(add_examples(project, intent, texts).relative_to(project))
        keys = [entry.key for entry in group]
        decision = "promoted" if create else "accepted"
        await record_decisions(engine, keys, decision, intent, written, by)
        await clear(engine, keys)
        applied.examples[intent] = len(texts)
        applied.files.add(written)
    await clear(engine, [entry.key for entry in found if entry.text is None])
    return applied
