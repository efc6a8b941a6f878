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
