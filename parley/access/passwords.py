"""Password hashing (argon2id) and TOTP second factors (RFC 6238)."""

from __future__ import annotations

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parley.access.errors import AccessConfigError

MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """An argon2id hash; raises AccessConfigError for a password shorter than 10 characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; a user without a hash (SSO only) never matches."""
    if not stored_hash:
        _HASHER.hash("timing-equaliser")  # as slow as a real check: no user enumeration by time
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str = "Parley") -> str:
    """The otpauth:// URI an authenticator app reads (usually as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def verify_totp(secret: str, code: str) -> bool:
    """The current code, or the one before/after (30 s of clock drift either way)."""
    return bool(code) and pyotp.TOTP(secret).verify(code.strip(), valid_window=1)
