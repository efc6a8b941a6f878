"""OpenID Connect login: authorization code flow with PKCE (Authlib), ID token checked (joserfc).

`/auth/oidc/login` sends the browser to the provider with a fresh state, nonce and PKCE verifier
(kept in a signed, short-lived cookie); `/auth/oidc/callback` checks the state (once only),
exchanges the code with the verifier, and accepts the ID token only when its signature, issuer,
audience, expiry and nonce are right.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from parley.access.errors import LoginFailed
from parley.access.settings import OidcSettings
from parley.access.sso.identity import SsoIdentity

logger = logging.getLogger(__name__)

LOGIN_TTL = 600.0  # seconds a user has to sign in at the provider
CLOCK_SKEW = 60  # seconds of leeway on exp/iat/nbf
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class OidcClient:
    """One configured OpenID Provider; discovery and keys are fetched on first use."""

    def __init__(self, settings: OidcSettings, leeway: int = CLOCK_SKEW) -> None:
        self.settings = settings
        self.leeway = leeway
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            metadata = await _get_json(url)
            if metadata.get("issuer") != self.settings.issuer:
                raise LoginFailed(
                    f"the provider at {url} says its issuer is {metadata.get('issuer')!r}, "
                    f"not {self.settings.issuer!r}; fix access.oidc.issuer"
                )
            self._metadata = metadata
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = KeySet.import_key_set(await _get_json((await self.metadata())["jwks_uri"]))  # type: ignore[arg-type]
        return self._keys

    def _client(self) -> AsyncOAuth2Client:
        secret = self.settings.client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=self.settings.scopes,
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def start(self) -> tuple[str, dict[str, str]]:
        """(the provider URL to redirect to, the state to keep until the callback)."""
        pending = {
            "state": secrets.token_urlsafe(24),
            "nonce": secrets.token_urlsafe(24),
            "verifier": secrets.token_urlsafe(48),
        }
        endpoint = (await self.metadata())["authorization_endpoint"]
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                endpoint,
                state=pending["state"],
                nonce=pending["nonce"],
                code_verifier=pending["verifier"],
            )
        return url, pending

    async def finish(self, params: dict[str, str], pending: dict[str, str]) -> SsoIdentity:
        """The identity behind a callback; raises LoginFailed on any mismatch."""
        token = await self.exchange(params, pending)
        claims = await self.validate_id_token(str(token.get("id_token", "")), pending["nonce"])
        return self.identity(claims)

    async def exchange(self, params: dict[str, str], pending: dict[str, str]) -> dict[str, Any]:
        """Check the callback's state and trade its code (with the PKCE verifier) for tokens."""
        if "error" in params:
            raise LoginFailed(f"the provider refused the login: {params['error']}")
        if not secrets.compare_digest(params.get("state", ""), pending.get("state", "")):
            raise LoginFailed("the login state does not match; start the login again")
        metadata = await self.metadata()
        if "iss" in params and params["iss"] != self.settings.issuer:  # RFC 9207 mix-up defence
            raise LoginFailed("the callback comes from another issuer")
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    code=params.get("code", ""),
                    code_verifier=pending["verifier"],
                )
            except Exception as exc:  # Authlib raises OAuthError or an HTTP error
                logger.info("OIDC code exchange failed: %s", type(exc).__name__)
                raise LoginFailed("the provider did not accept the login code") from None
        return dict(token)

    async def validate_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token signed by the provider for this client, unexpired, with
        this `nonce`; raises LoginFailed otherwise."""
        if not id_token:
            raise LoginFailed("the provider sent no ID token")
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=ALGORITHMS)
            except JoseError:  # perhaps the provider rotated its keys: fetch them once more
                decoded = jwt.decode(id_token, await self._key_set(True), algorithms=ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            logger.info("refused an ID token: %s", exc)
            raise LoginFailed(f"the ID token was refused ({type(exc).__name__})") from None
        claims = dict(decoded.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise LoginFailed("the ID token was issued to another client")
        return claims

    def identity(self, claims: dict[str, Any]) -> SsoIdentity:
        username = claims.get(self.settings.username_claim) or claims["sub"]
        groups = claims.get(self.settings.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        return SsoIdentity(
            username=str(username),
            source="oidc",
            groups=tuple(str(g) for g in groups),
            display_name=claims.get("name"),
            email=claims.get("email"),
        )


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(url)
            response.raise_for_status()
            body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed(f"cannot read {url}: {exc}") from None
    if not isinstance(body, dict):
        raise LoginFailed(f"{url} did not return a JSON object")
    return body
