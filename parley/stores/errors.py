"""The one exception family of the storage layer."""

from __future__ import annotations


class StoreError(Exception):
    """A tracker store, lock store, event broker or key problem, with what to do about it."""


class StoreConfigError(StoreError):
    """An `endpoints.yml` store section that cannot be used as written."""


class EncryptionError(StoreError):
    """A key is missing, malformed, or cannot decrypt a stored event."""


class LockError(StoreError):
    """A conversation lock could not be acquired in time."""


class FencedError(StoreError):
    """A turn's append was refused: its lock was taken over (the fencing token it carries is
    older than one already used on the conversation), so it must not write any more."""

    def __init__(self, sender_id: str, fence: int, lease_ran_out: bool = False) -> None:
        why = (
            "its lease ran out before its events were written (the process was paused or "
            "starved for longer than the lease), another turn may have taken over"
            if lease_ran_out
            else "the turn's lock expired and another turn took it over (fencing token "
            f"{fence} is older than one already used)"
        )
        super().__init__(
            f"conversation {sender_id!r}: {why}; its events were not stored, send the message again"
        )
        self.sender_id = sender_id
        self.fence = fence
