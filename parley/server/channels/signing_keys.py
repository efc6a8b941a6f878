"""Bearer JWTs signed by a platform (Bot Framework, Google Chat), checked against the public keys
the platform publishes at a URL: a JWKS, Google's map of key id -> X.509 certificate, or an
OpenID configuration whose `jwks_uri` names the JWKS. Keys are cached for a day and fetched again
when a token names a key id not seen yet (at most once a minute, so forged ids cost nothing).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.server.errors import ApiError

if TYPE_CHECKING:
    import httpx

KEYS_MAX_AGE_SECONDS = 24 * 3600
REFETCH_AFTER_SECONDS = 60
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class SigningKey:
    key: Any  # a cryptography public key
    jwk: dict[str, Any]  # the JWK as published (Bot Framework adds `endorsements`); {} for X.509


def _parse_keys(document: Any) -> dict[str, SigningKey]:
    import jwt  # here: a server without these channels does not load it

    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        found: dict[str, SigningKey] = {}
        for entry in document["keys"]:
            if isinstance(entry, dict) and entry.get("kid"):
                found[str(entry["kid"])] = SigningKey(jwt.PyJWK(entry).key, entry)
        return found
    if isinstance(document, dict):  # Google's x509 form: {kid: PEM certificate}
        from cryptography.x509 import load_pem_x509_certificate

        return {
            str(kid): SigningKey(load_pem_x509_certificate(pem.encode()).public_key(), {})
            for kid, pem in document.items()
            if isinstance(pem, str)
        }
    raise ValueError("neither a JWKS nor a map of X.509 certificates")


class RemoteKeys:
    """The signing keys published at `url` (`openid=True`: an OpenID configuration)."""

    def __init__(
        self, url: str, client: Callable[[], httpx.AsyncClient], *, openid: bool = False
    ) -> None:
        self.url = url
        self.openid = openid
        self._client = client
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        client = self._client()
        url = self.url
        if self.openid:
            response = await client.get(url)
            response.raise_for_status()
            url = str(response.json()["jwks_uri"])
        response = await client.get(url)
        response.raise_for_status()
        self._keys = _parse_keys(response.json())

    async def get(self, kid: str) -> SigningKey | None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > KEYS_MAX_AGE_SECONDS or (
                kid not in self._keys and age > REFETCH_AFTER_SECONDS
            ):
                try:
                    await self._fetch()
                except Exception as exc:
                    if not self._keys:
                        raise ApiError(
                            503, f"the platform's signing keys at {self.url} cannot be read: {exc}"
                        ) from None
                self._fetched_at = time.monotonic()
            return self._keys.get(kid)


def bearer_token(authorization: str | None, channel: str) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, f"{channel}: no Bearer token in the Authorization header")
    return token.strip()


async def verify_jwt(
    token: str, keys: RemoteKeys, *, audience: str, issuers: list[str], channel: str
) -> tuple[dict[str, Any], SigningKey]:
    """The token's claims, after checking signature, issuer, audience and expiry (5 min skew);
    ApiError(401) says which check failed."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ApiError(401, f"{channel}: the bearer token is not a JWT ({exc})") from None
    key = await keys.get(str(header.get("kid", "")))
    if key is None:
        raise ApiError(401, f"{channel}: the token is signed with an unknown key")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuers,
            leeway=300,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise ApiError(401, f"{channel}: the bearer token is not valid: {exc}") from None
    return claims, key
