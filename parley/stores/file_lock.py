"""Conversation locks shared by the processes of one host, on a lock file (POSIX record locks).

For `parley run --workers N` and for several servers on one machine sharing a SQLite store: the
turns of a conversation stay strictly ordered whichever process serves them. Each conversation
locks one byte of the file, at an offset derived from its id. The kernel releases a crashed
process's locks at once, so no lock outlives its holder and none needs a lifetime. Within a
process an asyncio lock queues turns first (record locks belong to the whole process).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parley.stores.memory import InMemoryLockStore

# A turn holds its lock for a few milliseconds: a waiter polling every 20 ms (as before) added
# up to 20 ms to the turn that followed; a poll is one non-blocking fcntl call.
_FIRST_POLL_SECONDS = 0.0005
_MAX_POLL_SECONDS = 0.002
_OFFSETS = 1 << 62  # byte offsets of the lock file used as lock slots (the file stays empty)


def lock_offset(sender_id: str) -> int:
    """The byte locked for `sender_id`: the same in every process (not Python's salted hash)."""
    digest = hashlib.blake2b(sender_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _OFFSETS


class FileLockStore:
    """Locks per conversation across the processes of this host; FIFO within a process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._local = InMemoryLockStore()

    @asynccontextmanager
    async def lock(self, sender_id: str) -> AsyncIterator[None]:
        """Yields no fencing token: the kernel frees the lock when its holder dies."""
        fd = self._fd
        if fd is None:
            raise RuntimeError("the lock store is closed")
        offset = lock_offset(sender_id)
        async with self._local.lock(sender_id):
            await _acquire(fd, offset)
            try:
                yield None
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


async def _acquire(fd: int, offset: int) -> None:
    """Take the byte lock, polling while another process holds it. Polling rather than a
    blocking call on a thread: a cancelled waiter then leaves nothing behind that could take
    the lock later (and a conversation is rarely busy in two processes at once)."""
    delay = _FIRST_POLL_SECONDS
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            return
        except OSError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL_SECONDS)
