"""Browser sessions: a random id in a signed cookie, its hash in the SQL store.

The row (not the cookie) decides: idle and absolute expiry are checked on every request and
"logout everywhere" deletes the rows. The CSRF token is derived from the session id, so a page
can send it back in `X-CSRF-Token` (synchronizer token) without another table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_keys, access_sessions

_TOUCH_EVERY = 30.0  # seconds: how stale `last_seen` may get before a request rewrites it


@dataclass(frozen=True)
class Session:
    username: str
    method: str  # local, ldap, oidc, saml
    created_at: float
    expires_at: float
    csrf_token: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def signing_key(engine: AsyncEngine, name: str = "session") -> bytes:
    """This deployment's HMAC key (made once, shared by every worker through the store)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(select(access_keys.c.value).where(access_keys.c.name == name))
        ).first()
    if row is None:
        try:
            async with writer(engine).begin() as connection:
                await connection.execute(
                    access_keys.insert().values(name=name, value=secrets.token_hex(32))
                )
        except IntegrityError:  # another worker made it first: use theirs
            pass
        return await signing_key(engine, name)
    return bytes.fromhex(row.value)


class SessionStore:
    """The `parley_access_sessions` table and the cookie format."""

    def __init__(self, engine: AsyncEngine, key: bytes, idle: float, absolute: float) -> None:
        self.engine = engine
        self.key = key
        self.idle = idle
        self.absolute = absolute

    def _mac(self, purpose: str, session_id: str) -> str:
        mac = hmac.new(self.key, f"{purpose}:{session_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def _unsign(self, cookie: str) -> str | None:
        session_id, _, mac = cookie.partition(".")
        if not session_id or not hmac.compare_digest(mac, self._mac("cookie", session_id)):
            return None
        return session_id

    async def create(self, username: str, method: str, ip: str | None) -> tuple[str, Session]:
        """A new session: returns (cookie value, session)."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        async with writer(self.engine).begin() as connection:
            await connection.execute(
                access_sessions.insert().values(
                    id_hash=_digest(session_id),
                    username=username,
                    method=method,
                    created_at=now,
                    last_seen=now,
                    expires_at=now + self.absolute,
                    ip=ip,
                )
            )
        cookie = f"{session_id}.{self._mac('cookie', session_id)}"
        session = Session(username, method, now, now + self.absolute, self._mac("csrf", session_id))
        return cookie, session

    async def resolve(self, cookie: str) -> Session | None:
        """The live session of a cookie; None when forged, ended, idle or past its lifetime."""
        session_id = self._unsign(cookie)
        if session_id is None:
            return None
        id_hash = _digest(session_id)
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(access_sessions).where(access_sessions.c.id_hash == id_hash)
                )
            ).first()
        if row is None:
            return None
        now = time.time()
        if now >= row.expires_at or now - row.last_seen >= self.idle:
            await self._delete(access_sessions.c.id_hash == id_hash)
            return None
        if now - row.last_seen > _TOUCH_EVERY:
            async with writer(self.engine).begin() as connection:
                await connection.execute(
                    update(access_sessions)
                    .where(access_sessions.c.id_hash == id_hash)
                    .values(last_seen=now)
                )
        return Session(
            row.username, row.method, row.created_at, row.expires_at, self._mac("csrf", session_id)
        )

    async def end(self, cookie: str) -> bool:
        session_id = self._unsign(cookie)
        if session_id is None:
            return False
        return await self._delete(access_sessions.c.id_hash == _digest(session_id)) > 0

    async def end_all(self, username: str) -> int:
        """Log a user out everywhere; returns how many sessions ended."""
        return await self._delete(access_sessions.c.username == username)

    async def _delete(self, condition: object) -> int:
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(delete(access_sessions).where(condition))  # type: ignore[arg-type]
        return int(result.rowcount or 0)
