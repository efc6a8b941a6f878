from __future__ import annotations

import base64

import pytest

from parley.stores.crypto import EncryptionKey, EventCipher
from parley.stores.errors import EncryptionError


def test_sealed_text_opens_only_for_the_same_conversation() -> None:
    cipher = EventCipher(EncryptionKey.generate())
    key_id, sealed = cipher.seal('{"text":"my card is 4111"}', "alice")
    assert key_id == cipher.key_id
    assert "4111" not in sealed
    assert cipher.open(key_id, sealed, "alice") == '{"text":"my card is 4111"}'
    with pytest.raises(EncryptionError, match="altered or belongs to another conversation"):
        cipher.open(key_id, sealed, "mallory")


def test_same_text_seals_differently_each_time() -> None:
    cipher = EventCipher(EncryptionKey.generate())
    assert cipher.seal("hello", "a")[1] != cipher.seal("hello", "a")[1]


def test_previous_keys_open_old_rows_and_unknown_keys_are_named() -> None:
    old, new = EncryptionKey.generate(), EncryptionKey.generate()
    key_id, sealed = EventCipher(old).seal("x", "a")
    assert EventCipher(new, [old]).open(key_id, sealed, "a") == "x"
    with pytest.raises(EncryptionError, match=f"key {key_id}, which is not configured"):
        EventCipher(new).open(key_id, sealed, "a")


def test_keys_come_from_the_environment() -> None:
    new, old = EncryptionKey.generate(), EncryptionKey.generate()
    cipher = EventCipher.from_env(
        {
            "PARLEY_ENCRYPTION_KEY": new.to_base64(),
            "PARLEY_ENCRYPTION_PREVIOUS_KEYS": f" {old.to_base64()} ,",
        }
    )
    assert cipher.key_id == new.key_id
    assert EventCipher.from_env({}).key_id is None
    assert EventCipher.from_env({}).seal("plain", "a") == (None, "plain")


def test_malformed_key_is_rejected_with_advice() -> None:
    short = base64.b64encode(b"0" * 16).decode()
    with pytest.raises(EncryptionError, match="must decode to 32 bytes"):
        EventCipher.from_env({"PARLEY_ENCRYPTION_KEY": short})
    with pytest.raises(EncryptionError, match="not valid base64"):
        EventCipher.from_env({"PARLEY_ENCRYPTION_KEY": "not base64!"})
