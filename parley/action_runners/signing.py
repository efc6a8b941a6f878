"""Request authentication between Parley and an action server: JWT bearer and HMAC signing.

Both sides live here so they cannot drift apart: the runner signs, `parley run actions`
verifies. HMAC signs `"<unix timestamp>.<nonce>." + body` with SHA-256; the server refuses a
timestamp outside its replay window and a nonce it has already accepted within it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from parley.action_runners.config import HMACConfig, JWTConfig

TIMESTAMP_HEADER = "X-Parley-Timestamp"
SIGNATURE_HEADER = "X-Parley-Signature"
NONCE_HEADER = "X-Parley-Nonce"
SIGNATURE_PREFIX = "sha256="


class AuthenticationFailed(Exception):
    """A request to the action server did not carry the credentials it requires."""


def create_jwt(
    config: JWTConfig, action_name: str, sender_id: str, now: float | None = None
) -> str:
    """A short-lived token for one action call (claims: iss, aud, sub, action, iat, exp, jti)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "iss": config.issuer,
        "sub": sender_id,
        "action": action_name,
        "iat": issued,
        "exp": issued + int(config.expires_in),
        "jti": uuid.uuid4().hex,
    }
    if config.audience:
        claims["aud"] = config.audience
    headers = {"kid": config.key_id} if config.key_id else None
    import jwt  # PyJWT is loaded by the assistants that sign their action calls

    return jwt.encode(claims, config.signing_key(), algorithm=config.algorithm, headers=headers)


def hmac_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    signed = f"{timestamp}.{nonce}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def hmac_headers(config: HMACConfig, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers signing one request; the nonce makes two identical bodies distinct requests."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = uuid.uuid4().hex
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: hmac_signature(config.secret, timestamp, nonce, body),
    }


@dataclass
class RequestVerifier:
    """What `parley run actions` demands of each webhook call; nothing set means open.

    `jwt_key` is the HS256 secret or the RS256 public key (PEM); `token` a static shared
    token accepted in the `token` query parameter or an `X-Parley-Token` header.
    """

    jwt_key: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    hmac_secret: str | None = None
    replay_window: float = 300.0
    token: str | None = None
    clock: Callable[[], float] = time.time
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict, repr=False)

    @property
    def required(self) -> list[str]:
        checks = [("jwt", self.jwt_key), ("hmac", self.hmac_secret), ("token", self.token)]
        return [name for name, value in checks if value]

    def verify(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> None:
        """Raise AuthenticationFailed unless every configured check passes."""
        lower = {k.lower(): v for k, v in headers.items()}
        if self.token:
            given = query.get("token") or lower.get("x-parley-token") or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise AuthenticationFailed("missing or wrong token")
        if self.jwt_key:
            self._verify_jwt(lower.get("authorization", ""))
        if self.hmac_secret:
            self._verify_hmac(lower, body)

    def _verify_jwt(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("missing 'Authorization: Bearer <JWT>' header")
        import jwt

        try:
            jwt.decode(
                token,
                self.jwt_key or "",
                algorithms=[self.jwt_algorithm],
                audience=self.jwt_audience,
                issuer=self.jwt_issuer,
                options={"require": ["exp", "iat"], "verify_aud": self.jwt_audience is not None},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"invalid JWT: {exc}") from None

    def _verify_hmac(self, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        nonce = headers.get(NONCE_HEADER.lower(), "")
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        if not timestamp or not nonce or not signature:
            raise AuthenticationFailed(
                f"missing {TIMESTAMP_HEADER}, {NONCE_HEADER} or {SIGNATURE_HEADER} header"
            )
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise AuthenticationFailed(f"{TIMESTAMP_HEADER} is not a unix time") from None
        now = self.clock()
        if abs(now - sent_at) > self.replay_window:
            raise AuthenticationFailed(
                f"request timestamp is {abs(now - sent_at):.0f}s away from server time "
                f"(window {self.replay_window:.0f}s): replayed, or clocks out of sync"
            )
        expected = hmac_signature(self.hmac_secret or "", timestamp, nonce, body)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise AuthenticationFailed("HMAC signature does not match the body")
        self._remember(nonce, now)

    def _remember(self, nonce: str, now: float) -> None:
        while self._seen and next(iter(self._seen.values())) < now - self.replay_window:
            self._seen.popitem(last=False)
        if nonce in self._seen:
            raise AuthenticationFailed("this signed request was already received (replay)")
        self._seen[nonce] = now
