"""Small signed, expiring values for cookies that carry state across an SSO redirect."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


def seal(key: bytes, purpose: str, payload: dict[str, Any], ttl: float) -> str:
    """`payload` with an expiry, as base64 JSON plus an HMAC bound to `purpose`."""
    body = base64.urlsafe_b64encode(
        json.dumps({**payload, "exp": time.time() + ttl}, separators=(",", ":")).encode()
    ).decode()
    return f"{body}.{_mac(key, purpose, body)}"


def unseal(key: bytes, purpose: str, value: str) -> dict[str, Any] | None:
    """The payload of a value `seal` made for `purpose`; None when forged or expired."""
    body, _, mac = value.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(key, purpose, body)):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    if not isinstance(payload, dict) or float(payload.get("exp", 0)) < time.time():
        return None
    return payload


def _mac(key: bytes, purpose: str, body: str) -> str:
    digest = hmac.new(key, f"{purpose}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
