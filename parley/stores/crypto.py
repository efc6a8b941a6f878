"""Encryption at rest: AES-256-GCM per stored event, with key ids so keys can rotate.

Each event's body (user and bot text, parse data, entities, slot values, metadata) is sealed on
its own with a fresh 96-bit nonce; the conversation id is bound in as associated data so a sealed
event cannot be moved to another conversation unnoticed. Event type, timestamps and ids stay in
clear columns for indexing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from parley.stores.errors import EncryptionError

KEY_ENV = "PARLEY_ENCRYPTION_KEY"
PREVIOUS_KEYS_ENV = "PARLEY_ENCRYPTION_PREVIOUS_KEYS"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class EncryptionKey:
    """A 32-byte AES key and the short id stored beside every event it sealed."""

    secret: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"parley-key-id:" + self.secret).hexdigest()[:12]

    @classmethod
    def from_base64(cls, text: str, source: str = KEY_ENV) -> EncryptionKey:
        """Parse a base64-encoded 32-byte key; raises EncryptionError naming `source`."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EncryptionError(f"{source} is not valid base64: {exc}") from None
        if len(secret) != 32:
            raise EncryptionError(
                f"{source} must decode to 32 bytes (AES-256), got {len(secret)}; "
                "create one with `parley keys generate`"
            )
        return cls(secret)

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(AESGCM.generate_key(bit_length=256))

    def to_base64(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")


class EventCipher:
    """Seals event bodies with the current key and opens them with any known key.

    Without a current key, bodies are stored as plain JSON (key id None) and only opening of
    previously encrypted rows is possible with `previous` keys.
    """

    def __init__(self, current: EncryptionKey | None, previous: Sequence[EncryptionKey] = ()):
        self.current = current
        # Every known key, the current one first (the studio derives its value-hash keys).
        self.keys: tuple[EncryptionKey, ...] = (*([current] if current else []), *previous)
        self._keys = {key.key_id: AESGCM(key.secret) for key in previous}
        if current is not None:
            self._keys[current.key_id] = AESGCM(current.secret)

    @property
    def key_id(self) -> str | None:
        return self.current.key_id if self.current is not None else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EventCipher:
        """Current key from PARLEY_ENCRYPTION_KEY, older ones from PARLEY_ENCRYPTION_PREVIOUS_KEYS
        (comma-separated), both base64; no key means no encryption."""
        env = os.environ if environ is None else environ
        text = env.get(KEY_ENV, "").strip()
        current = EncryptionKey.from_base64(text) if text else None
        previous = [
            EncryptionKey.from_base64(part, PREVIOUS_KEYS_ENV)
            for part in env.get(PREVIOUS_KEYS_ENV, "").split(",")
            if part.strip()
        ]
        return cls(current, previous)

    def seal(self, plaintext: str, sender_id: str) -> tuple[str | None, str]:
        """Return (key id, stored text): base64(nonce + ciphertext), or the plaintext unkeyed."""
        if self.current is None:
            return None, plaintext
        nonce = os.urandom(_NONCE_BYTES)
        aead = self._keys[self.current.key_id]
        sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), sender_id.encode("utf-8"))
        return self.current.key_id, base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, key_id: str | None, stored: str, sender_id: str) -> str:
        """Inverse of `seal`; raises EncryptionError for an unknown key or a tampered row."""
        if key_id is None:
            return stored
        aead = self._keys.get(key_id)
        if aead is None:
            raise EncryptionError(
                f"an event of conversation {sender_id!r} is encrypted with key {key_id}, which "
                f"is not configured; set {KEY_ENV} or add it to {PREVIOUS_KEYS_ENV}"
            )
        raw = binascii.a2b_base64(stored)
        try:
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], sender_id.encode("utf-8"))
        except InvalidTag:
            raise EncryptionError(
                f"an event of conversation {sender_id!r} failed authentication with key "
                f"{key_id}: the row was altered or belongs to another conversation"
            ) from None
        return plain.decode("utf-8")
