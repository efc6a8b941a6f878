"""The audit log: append-only rows, each carrying the SHA-256 of the one before.

Editing, inserting or deleting a row in the middle breaks the chain, which `verify` reports
(`parley audit verify`). Details pass through `scrub` first: a key that names a secret is dropped,
so no password, token or key ever reaches a row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import audit_log

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_SECRET_KEY = re.compile(r"pass|secret|token|key|credential|assertion|code|totp", re.IGNORECASE)
_AUDIT_LOCK_ID = 0x61756469746C6F67  # PostgreSQL advisory lock: one appender at a time

Publisher = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    target: str | None
    result: str  # ok, failed, denied
    ip: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    result: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 100


@dataclass(frozen=True)
class ChainBreak:
    row_id: int
    reason: str


def scrub(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details without any value whose key names a secret (recursively)."""
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if _SECRET_KEY.search(str(key)):
            continue
        clean[str(key)] = scrub(value) if isinstance(value, Mapping) else value
    return clean


def _row_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        [prev_hash, fields["at"], fields["actor"], fields["action"], fields["target"],
         fields["result"], fields["ip"], fields["details"]],
        separators=(",", ":"),
        ensure_ascii=False,
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        result=row.result,
        ip=row.ip,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditLog:
    """The `parley_audit_log` table; `publish` (optional) also sends each row to a broker."""

    def __init__(self, engine: AsyncEngine, publish: Publisher | None = None) -> None:
        self.engine = engine
        self.publish = publish

    async def record(
        self,
        actor: str,
        action: str,
        *,
        target: str | None = None,
        result: str = "ok",
        ip: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one row (serialised with other writers so the chain stays linear)."""
        fields = {
            "at": round(time.time(), 6),
            "actor": actor,
            "action": action,
            "target": target,
            "result": result,
            "ip": ip,
            "details": json.dumps(scrub(details or {}), sort_keys=True, default=str),
        }
        async with writer(self.engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK_ID})"))
            last = (
                await connection.execute(
                    select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
                )
            ).first()
            prev_hash = last.hash if last is not None else GENESIS
            digest = _row_hash(prev_hash, fields)
            inserted = await connection.execute(
                audit_log.insert().values(prev_hash=prev_hash, hash=digest, **fields)
            )
            row_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        entry = AuditEntry(
            row_id,
            fields["at"],  # type: ignore[arg-type]
            actor,
            action,
            target,
            result,
            ip,
            json.loads(str(fields["details"])),
            prev_hash,
            digest,
        )
        logger.info("audit: %s %s %s -> %s", actor, action, target or "", result)
        if self.publish is not None:
            try:
                await self.publish(entry.public())
            except Exception:  # the row is stored; a broker outage must not undo the action
                logger.exception("could not publish audit row %s to the event broker", row_id)
        return entry

    async def query(self, where: AuditFilter) -> list[AuditEntry]:
        """Newest first, at most `where.limit` rows."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(where.limit)
        for column, value in (
            (audit_log.c.actor, where.actor),
            (audit_log.c.action, where.action),
            (audit_log.c.target, where.target),
            (audit_log.c.result, where.result),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.since is not None:
            query = query.where(audit_log.c.at >= where.since)
        if where.until is not None:
            query = query.where(audit_log.c.at < where.until)
        async with self.engine.connect() as connection:
            return [_entry(row) for row in await connection.execute(query)]

    async def verify(self) -> tuple[int, list[ChainBreak]]:
        """Walk the whole chain: (rows checked, every place it breaks)."""
        breaks: list[ChainBreak] = []
        expected_prev = GENESIS
        checked = 0
        async with self.engine.connect() as connection:
            result = await connection.stream(select(audit_log).order_by(audit_log.c.id))
            async for row in result:
                checked += 1
                if row.prev_hash != expected_prev:
                    breaks.append(ChainBreak(row.id, "does not follow the row before it"))
                fields = {name: getattr(row, name) for name in
                          ("at", "actor", "action", "target", "result", "ip", "details")}  # fmt: skip
                if _row_hash(row.prev_hash, fields) != row.hash:
                    breaks.append(ChainBreak(row.id, "its content does not match its hash"))
                expected_prev = row.hash
        return checked, breaks
