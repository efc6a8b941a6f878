"""The per-turn statements of the SQL tracker store on SQLite, without the async driver's hops.

Through SQLAlchemy's async engine and aiosqlite every statement, BEGIN, fetch and COMMIT is a
separate hand-off to the driver's thread (about forty per turn). Here a turn's load and a turn's
append each run as one call on a dedicated thread that owns a plain `sqlite3` connection on the
same file (WAL, same busy timeout), so a turn costs two hand-offs. Everything else the store
does (delete, purge, export, migrations) stays on the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from parley.stores.codec import StoredEvent
from parley.stores.sql_schema import conversations, events

T = TypeVar("T")

_C = conversations.name
_E = events.name
_ROWS_AFTER = (
    f"SELECT c.created_at, c.event_count, e.key_id, e.body FROM {_C} AS c "
    f"LEFT OUTER JOIN {_E} AS e ON e.sender_id = c.sender_id AND e.sequence > ? "
    "WHERE c.sender_id = ? ORDER BY e.sequence"
)
_ALREADY_STORED = f"SELECT 1 FROM {_E} WHERE sender_id = ? AND event_id = ? LIMIT 1"
_RESERVE = (
    f"INSERT INTO {_C} (sender_id, created_at, latest_event_time, event_count) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (sender_id) DO UPDATE SET "
    f"event_count = {_C}.event_count + excluded.event_count, "
    f"latest_event_time = max({_C}.latest_event_time, excluded.latest_event_time) "
    "RETURNING event_count, created_at"
)
_INSERT = (
    f"INSERT INTO {_E} (sender_id, sequence, type_name, timestamp, event_id, model_id, key_id, "
    "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

Row = tuple[Any, ...]


class SQLiteTurns:
    """One thread, one connection: `rows_after` and `append` of the SQL tracker store."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite")
        self._connection: sqlite3.Connection | None = None

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._connection = connection
        return self._connection

    async def rows_after(self, sender_id: str, skip: int) -> list[Row]:
        """(created_at, event_count, key_id, body) rows as the engine query `_rows_after`."""
        return await self._run(self._rows_after, sender_id, skip)

    def _rows_after(self, sender_id: str, skip: int) -> list[Row]:
        return self._db().execute(_ROWS_AFTER, (skip, sender_id)).fetchall()

    async def append(
        self, sender_id: str, records: Sequence[StoredEvent], latest: float, retry: bool
    ) -> tuple[int, float] | None:
        """Reserve the sequence range and insert the rows in one write transaction; returns
        (first sequence, created_at), or None when `retry` finds the turn already stored."""
        return await self._run(self._append, sender_id, records, latest, retry)

    def _append(
        self, sender_id: str, records: Sequence[StoredEvent], latest: float, retry: bool
    ) -> tuple[int, float] | None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            event_id = records[0].event_id
            if (
                retry
                and event_id is not None
                and db.execute(_ALREADY_STORED, (sender_id, event_id)).fetchone() is not None
            ):
                db.execute("ROLLBACK")
                return None
            total, created_at = db.execute(
                _RESERVE, (sender_id, time.time(), latest, len(records))
            ).fetchone()
            first = int(total) - len(records) + 1
            db.executemany(
                _INSERT,
                [
                    (
                        sender_id,
                        first + offset,
                        record.type_name,
                        record.timestamp,
                        record.event_id,
                        record.model_id,
                        record.key_id,
                        record.body,
                    )
                    for offset, record in enumerate(records)
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return first, float(created_at)

    async def close(self) -> None:
        if self._connection is not None:
            await self._run(self._connection.close)
            self._connection = None
        self._executor.shutdown(wait=True)
