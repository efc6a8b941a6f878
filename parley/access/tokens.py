"""API tokens: `pat_<id>_<secret>`, shown once, stored as a SHA-256 of the secret.

The secret is 256 random bits, so a fast hash is as safe as a slow one here (nothing to guess);
the id makes lookup a primary-key read. A token's permissions are its scopes intersected with
its owner's role at the time of use, so demoting a user demotes their tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_tokens

PREFIX = "pat_"


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    username: str
    name: str
    scopes: frozenset[str]
    created_at: float
    expires_at: float | None
    last_used: float | None
    revoked_at: float | None

    def usable(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.token_id,
            "username": self.username,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used": self.last_used,
            "revoked": self.revoked_at is not None,
        }


def _token(row: Any) -> ApiToken:
    return ApiToken(
        token_id=row.token_id,
        username=row.username,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used=row.last_used,
        revoked_at=row.revoked_at,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX)


class TokenStore:
    """The `parley_access_tokens` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self, username: str, name: str, scopes: frozenset[str], expires_at: float | None
    ) -> tuple[str, ApiToken]:
        """A new token: returns (the token text, shown only now; its record)."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = time.time()
        async with writer(self.engine).begin() as connection:
            await connection.execute(
                access_tokens.insert().values(
                    token_id=token_id,
                    username=username,
                    name=name,
                    secret_hash=_digest(secret),
                    scopes=" ".join(sorted(scopes)),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        record = ApiToken(token_id, username, name, scopes, now, expires_at, None, None)
        return f"{PREFIX}{token_id}_{secret}", record

    async def resolve(self, text: str) -> ApiToken | None:
        """The usable token behind `text`; None when unknown, wrong, revoked or expired."""
        token_id, _, secret = text.removeprefix(PREFIX).partition("_")
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(access_tokens).where(access_tokens.c.token_id == token_id)
                )
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            return None
        token = _token(row)
        now = time.time()
        if not token.usable(now):
            return None
        if token.last_used is not None and now - token.last_used < 60:
            return token
        async with writer(self.engine).begin() as connection:
            await connection.execute(
                update(access_tokens)
                .where(access_tokens.c.token_id == token_id)
                .values(last_used=now)
            )
        return token

    async def get(self, token_id: str) -> ApiToken | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(access_tokens).where(access_tokens.c.token_id == token_id)
                )
            ).first()
        return _token(row) if row is not None else None

    async def list(self, username: str | None = None) -> list[ApiToken]:
        query = select(access_tokens).order_by(access_tokens.c.created_at)
        if username is not None:
            query = query.where(access_tokens.c.username == username)
        async with self.engine.connect() as connection:
            return [_token(row) for row in await connection.execute(query)]

    async def revoke(self, token_id: str) -> bool:
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                update(access_tokens)
                .where(access_tokens.c.token_id == token_id, access_tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(result.rowcount)
