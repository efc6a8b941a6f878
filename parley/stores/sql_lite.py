"""The per-turn statements of the SQL tracker store on SQLite, without the async driver's hops.

Through SQLAlchemy's async engine and aiosqlite every statement, BEGIN, fetch and COMMIT is a
separate hand-off to the driver's thread (about forty per turn). Here a turn's load and a turn's
append each run as one call on a plain `sqlite3` connection on the same file (WAL, same busy
timeout).

The call runs inline, in the event loop's thread: on a local file it takes a fraction of a
millisecond, less than handing it to a thread and taking the GIL back (measured: 20 % of a
message's CPU time at 32 concurrent users). It never waits there: the inline connection has no
busy timeout, so when another connection (another worker or replica, or this store's own
checkpoint) holds the write lock, the call is tried again after a short sleep of the event
loop, as long as the store's busy timeout allows. WAL checkpoints, which write and sync the
database file, run on a dedicated thread instead of inside a committing turn.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from parley.stores.base import StorePosition
from parley.stores.codec import StoredEvent
from parley.stores.errors import FencedError
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
# No row comes back when the fencing token is older than the conversation's.
_RESERVE = (
    f"INSERT INTO {_C} (sender_id, created_at, latest_event_time, event_count, fence) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender_id) DO UPDATE SET "
    f"event_count = {_C}.event_count + excluded.event_count, "
    f"latest_event_time = max({_C}.latest_event_time, excluded.latest_event_time), "
    f"fence = coalesce(excluded.fence, {_C}.fence) "
    f"WHERE excluded.fence IS NULL OR {_C}.fence IS NULL OR {_C}.fence <= excluded.fence "
    "RETURNING event_count, created_at"
)
_INSERT = (
    f"INSERT INTO {_E} (sender_id, sequence, type_name, timestamp, event_id, model_id, key_id, "
    "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
BUSY_TIMEOUT_MS = 30000
_FIRST_RETRY_SECONDS = 0.0002  # a turn holds the write lock for a fraction of a millisecond
_LAST_RETRY_SECONDS = 0.005
CHECKPOINT_EVERY = 256  # inline commits between two WAL checkpoints on the thread

Row = tuple[Any, ...]


class Fenced:
    """What `append` answers for a turn whose fencing token is older than the conversation's."""


FENCED = Fenced()
Placed = tuple[int, float] | None | Fenced


def _connect(path: str, busy_timeout_ms: int, autocheckpoint: bool) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    if not autocheckpoint:
        connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


def _timed_out(error: Exception) -> bool:
    """`_call` gave up: the database stayed locked for the whole busy timeout."""
    return isinstance(error, sqlite3.OperationalError) and _is_busy(error)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def ensure_wal(path: str, timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """Put a SQLite database in WAL mode, once, before its connections race. Switching needs the
    file to itself, and SQLite refuses at once (without waiting in its busy handler) when
    another new connection is switching or writing at the same moment: so try again until
    `timeout`. On a database already in WAL mode this is a read of its header."""
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
    finally:
        connection.close()


class SQLiteTurns:
    """`TurnIO` of the SQL tracker store on a SQLite file, inline in the event loop (retried
    after short sleeps while the write lock is taken); checkpoints on a thread of their own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite")
        self._inline: sqlite3.Connection | None = None  # event loop thread only
        self._checkpointer: sqlite3.Connection | None = None  # executor thread only
        self._commits = 0
        self._checkpoint: Future[None] | None = None
        self._pending: list[tuple[_Turn, asyncio.Future[Placed]]] = []
        self._writer: asyncio.Task[None] | None = None

    def _inline_db(self) -> sqlite3.Connection:
        if self._inline is None:
            self._inline = _connect(self.path, 0, autocheckpoint=False)
        return self._inline

    def _checkpoint_db(self) -> sqlite3.Connection:
        if self._checkpointer is None:
            self._checkpointer = _connect(self.path, BUSY_TIMEOUT_MS, autocheckpoint=True)
        return self._checkpointer

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """`function(connection, *args)` inline; while another connection holds the write lock,
        tried again after short sleeps in the event loop (SQLite's own busy handler would sleep
        1, 2, 5, 10 … ms, and block the loop), for as long as the busy timeout allows."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        delay = _FIRST_RETRY_SECONDS
        while True:
            try:
                return function(self._inline_db(), *args)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LAST_RETRY_SECONDS)

    async def rows_after(self, sender_id: str, skip: int) -> list[Row]:
        return await self._call(_rows_after, sender_id, skip)

    async def append(
        self,
        sender_id: str,
        records: Sequence[StoredEvent],
        latest: float,
        fence: int | None = None,
        retry: bool = False,
    ) -> StorePosition | None:
        """Reserve the sequence range and insert the rows in a write transaction; returns the
        turn's position, None when `retry` finds the turn already stored; FencedError when
        `fence` is older than the conversation's (nothing stored).

        Turns that arrive while a transaction is being written (or in the same turn of the event
        loop) are committed together in the next one (group commit): one WAL write for many
        turns, each caller answered once its rows are committed. When a transaction fails, its
        turns are written one by one, so only a turn that fails alone fails. The store's
        write lock (`sql_turns.WriteTransactions`) is not taken: turns arriving together commit
        together."""
        turn = _Turn(sender_id, records, latest, fence)
        if retry:
            done = await self._call(_append, turn, True)
            self._committed(1)
        else:
            pending: asyncio.Future[Placed] = asyncio.get_running_loop().create_future()
            self._pending.append((turn, pending))
            if self._writer is None:
                self._writer = asyncio.get_running_loop().create_task(self._write_pending())
            done = await pending
        if isinstance(done, Fenced):
            raise FencedError(sender_id, fence or 0)
        if done is None:
            return None  # a failed attempt had committed after all
        first, created_at = done
        return StorePosition(repr(created_at), first + len(records) - 1)

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    placed = await self._call(_append_turns, [turn for turn, _ in batch])
                except Exception as exc:
                    if len(batch) > 1 and not _timed_out(exc):
                        # nothing was stored: each turn on its own, so only the one at fault fails
                        await self._write_one_by_one(batch)
                        continue
                    # a turn alone, or a database still locked after the busy timeout: writing
                    # the turns again one by one would only fail (or wait) again
                    _fail(batch, exc)
                    continue
                except BaseException as exc:  # cancelled: so are the turns waiting here
                    _fail(batch, exc)
                    raise
                self._committed(len(batch))
                for (_, waiter), result in zip(batch, placed, strict=True):
                    if not waiter.done():
                        waiter.set_result(result)
        finally:
            self._writer = None

    async def _write_one_by_one(self, batch: list[tuple[_Turn, asyncio.Future[Placed]]]) -> None:
        for turn, waiter in batch:
            try:
                result = await self._call(_append, turn, False)
            except Exception as exc:
                if not waiter.done():
                    waiter.set_exception(exc)
                continue
            self._committed(1)
            if not waiter.done():
                waiter.set_result(result)

    def _committed(self, turns: int) -> None:
        before = self._commits
        self._commits += turns
        if before // CHECKPOINT_EVERY != self._commits // CHECKPOINT_EVERY:
            self._start_checkpoint()

    def _start_checkpoint(self) -> None:
        """Move the WAL's pages into the database file, on the thread (it syncs the file)."""
        if self._checkpoint is None or self._checkpoint.done():
            self._checkpoint = self._executor.submit(self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        # RESTART, not PASSIVE: under steady writes a passive checkpoint never catches up with
        # the log, which then grows without end. RESTART holds writers off while it copies (they
        # retry from the event loop, which goes on) and lets the next one reuse the log.
        self._checkpoint_db().execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.shield(self._writer)  # the turns already handed over are written
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_checkpointer)
        self._executor.shutdown(wait=True)

    def _close_checkpointer(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self._checkpointer.close()
            self._checkpointer = None


def _rows_after(db: sqlite3.Connection, sender_id: str, skip: int) -> list[Row]:
    return db.execute(_ROWS_AFTER, (skip, sender_id)).fetchall()


@dataclass(frozen=True)
class _Turn:
    sender_id: str
    records: Sequence[StoredEvent]
    latest: float
    fence: int | None = None


def _fail(batch: list[tuple[_Turn, asyncio.Future[Placed]]], error: BaseException) -> None:
    for _, waiter in batch:
        if not waiter.done():
            waiter.set_exception(error)


@contextmanager
def _write_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (busy at BEGIN, inline, means: retry
    after a short sleep of the event loop)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _append_turns(db: sqlite3.Connection, turns: list[_Turn]) -> list[tuple[int, float] | Fenced]:
    """Every turn's rows in one transaction; (first sequence, created_at) of each, or FENCED
    for a turn refused (its rows are not written, the others' are)."""
    with _write_transaction(db):
        return [_insert_turn(db, turn) for turn in turns]


def _insert_turn(db: sqlite3.Connection, turn: _Turn) -> tuple[int, float] | Fenced:
    count = len(turn.records)
    reserved = db.execute(
        _RESERVE, (turn.sender_id, time.time(), turn.latest, count, turn.fence)
    ).fetchone()
    if reserved is None:
        return FENCED
    total, created_at = reserved
    first = int(total) - count + 1
    db.executemany(
        _INSERT,
        [
            (turn.sender_id, first + offset, *record.columns())
            for offset, record in enumerate(turn.records)
        ],
    )
    return first, float(created_at)


def _append(db: sqlite3.Connection, turn: _Turn, retry: bool) -> Placed:
    """One turn in its own transaction; None when `retry` finds it stored already."""
    with _write_transaction(db):
        event_id = turn.records[0].event_id
        if (
            retry
            and event_id is not None
            and db.execute(_ALREADY_STORED, (turn.sender_id, event_id)).fetchone() is not None
        ):
            return None
        return _insert_turn(db, turn)
