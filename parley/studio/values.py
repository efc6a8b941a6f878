"""How the studio's index keeps slot and entity values: what users wrote must not sit in clear
beside an encrypted tracker store.

A value is normalised (text as is, anything else as compact JSON; spaces collapsed, lower-cased).
When the store does not encrypt, the index keeps the normalised value (cut to 255 characters),
so the list can offer and match it. When it encrypts, the index keeps only a keyed hash:
`h:` + 32 hex digits of HMAC-SHA256 under a key derived from the store's encryption key. A
reviewer who types a value finds the conversations that had exactly that value (after
normalisation); nobody reading the database learns the values without the key. Hashes made under
a previous key (PARLEY_ENCRYPTION_PREVIOUS_KEYS) still match: a search tries every known key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from parley.stores.crypto import EncryptionKey, EventCipher

MAX_VALUE = 255
HASH_PREFIX = "h:"
_DERIVATION = b"parley-studio-slot-and-entity-values"


def normalised(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return " ".join(text.split()).lower()


def _hash(key: EncryptionKey, text: str) -> str:
    derived = hmac.new(key.secret, _DERIVATION, hashlib.sha256).digest()
    return HASH_PREFIX + hmac.new(derived, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


class ValueKeeper:
    """The form a value takes in the index, and the forms a searched value may have there."""

    def __init__(self, cipher: EventCipher) -> None:
        self._keys = cipher.keys
        self._current = cipher.current

    @property
    def in_clear(self) -> bool:
        return self._current is None

    def stored(self, value: Any) -> str:
        text = normalised(value)
        return text[:MAX_VALUE] if self._current is None else _hash(self._current, text)

    def searched(self, value: str) -> list[str]:
        """Every stored form of `value`: in clear (rows indexed while the store did not
        encrypt) and hashed under each known key."""
        text = normalised(value)
        return [text[:MAX_VALUE], *(_hash(key, text) for key in self._keys)]
