from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from parley.action_runners.config import HMACConfig, JWTConfig
from parley.action_runners.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AuthenticationFailed,
    RequestVerifier,
    create_jwt,
    hmac_headers,
)

SECRET = "k" * 40
BODY = json.dumps({"next_action": "action_transfer", "sender_id": "alice"}).encode()


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_hs256_token_is_short_lived_and_names_the_call() -> None:
    token = create_jwt(
        JWTConfig(secret=SECRET, expires_in=30), "action_transfer", "alice", now=1000
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["exp"] - claims["iat"] == 30
    assert (claims["action"], claims["sub"], claims["iss"]) == (
        "action_transfer",
        "alice",
        "parley",
    )


def test_verifier_accepts_valid_jwt_and_refuses_wrong_expired_or_missing() -> None:
    verifier = RequestVerifier(jwt_key=SECRET)
    good = create_jwt(JWTConfig(secret=SECRET), "a", "alice")
    verifier.verify(bearer(good), {}, BODY)
    wrong = create_jwt(JWTConfig(secret="x" * 40), "a", "alice")
    expired = create_jwt(JWTConfig(secret=SECRET, expires_in=10), "a", "alice", now=1000)
    for headers, reason in [
        (bearer(wrong), "Signature verification failed"),
        (bearer(expired), "expired"),
        ({}, "missing"),
        ({"Authorization": f"Basic {good}"}, "missing"),
    ]:
        with pytest.raises(AuthenticationFailed, match=reason):
            verifier.verify(headers, {}, BODY)


def test_rs256_token_is_verified_with_the_public_key_only() -> None:
    private, public = rsa_pair()
    token = create_jwt(JWTConfig(algorithm="RS256", private_key=private, audience="bank"), "a", "u")
    RequestVerifier(jwt_key=public, jwt_algorithm="RS256", jwt_audience="bank").verify(
        bearer(token), {}, BODY
    )
    with pytest.raises(AuthenticationFailed, match=r"(?i)audience"):
        RequestVerifier(jwt_key=public, jwt_algorithm="RS256", jwt_audience="other").verify(
            bearer(token), {}, BODY
        )
    # an HS256 token made with the public key as secret must not pass (algorithm confusion)
    forged = jwt.encode({"iat": 1, "exp": 2**31}, "p" * 40, algorithm="HS256")
    with pytest.raises(AuthenticationFailed):
        RequestVerifier(jwt_key=public, jwt_algorithm="RS256").verify(bearer(forged), {}, BODY)


def test_hmac_accepts_a_fresh_signature_once_and_refuses_tampering_and_old_requests() -> None:
    now = 1_700_000_000.0
    verifier = RequestVerifier(hmac_secret=SECRET, replay_window=300, clock=lambda: now)
    headers = hmac_headers(HMACConfig(secret=SECRET), BODY, now=now - 10)
    verifier.verify(headers, {}, BODY)
    with pytest.raises(AuthenticationFailed, match="already received"):
        verifier.verify(headers, {}, BODY)
    fresh = hmac_headers(HMACConfig(secret=SECRET), BODY, now=now)
    with pytest.raises(AuthenticationFailed, match="does not match"):
        verifier.verify(fresh, {}, BODY.replace(b"alice", b"mallory"))
    old = hmac_headers(HMACConfig(secret=SECRET), BODY, now=now - 301)
    with pytest.raises(AuthenticationFailed, match="window"):
        verifier.verify(old, {}, BODY)
    with pytest.raises(AuthenticationFailed, match="missing"):
        verifier.verify({TIMESTAMP_HEADER: str(int(now))}, {}, BODY)
    # two requests with the same body in the same second are both accepted
    verifier.verify(hmac_headers(HMACConfig(secret=SECRET), BODY, now=now), {}, BODY)
    verifier.verify(hmac_headers(HMACConfig(secret=SECRET), BODY, now=now), {}, BODY)
    forged = {**fresh, SIGNATURE_HEADER: "sha256=" + "0" * 64}
    with pytest.raises(AuthenticationFailed, match="does not match"):
        verifier.verify(forged, {}, BODY)


def test_static_token_in_query_or_header() -> None:
    verifier = RequestVerifier(token="t0ken")
    verifier.verify({}, {"token": "t0ken"}, BODY)
    verifier.verify({"X-Parley-Token": "t0ken"}, {}, BODY)
    with pytest.raises(AuthenticationFailed):
        verifier.verify({}, {"token": "guess"}, BODY)


def test_nothing_configured_means_open() -> None:
    RequestVerifier().verify({}, {}, BODY)
    assert RequestVerifier().required == []
