"""Users in the SQL store: create, find, change role, lock out after repeated failures."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.access.errors import AccessConfigError
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_users

SOURCES = ("local", "ldap", "oidc", "saml")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    source: str
    display_name: str | None = None
    email: str | None = None
    disabled: bool = False
    failed_logins: int = 0
    locked_until: float | None = None
    created_at: float = 0.0
    last_login: float | None = None
    has_totp: bool = False

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def public(self) -> dict[str, Any]:
        """What the API shows about a user (never a hash or a TOTP secret)."""
        return {
            "username": self.username,
            "role": self.role,
            "source": self.source,
            "display_name": self.display_name,
            "email": self.email,
            "disabled": self.disabled,
            "locked": self.locked(time.time()),
            "totp": self.has_totp,
            "created_at": self.created_at,
            "last_login": self.last_login,
        }


def _user(row: Any) -> User:
    return User(
        username=row.username,
        role=row.role,
        source=row.source,
        display_name=row.display_name,
        email=row.email,
        disabled=bool(row.disabled),
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        created_at=row.created_at,
        last_login=row.last_login,
        has_totp=bool(row.totp_secret),
    )


class UserStore:
    """The `parley_access_users` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, username: str) -> User | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(access_users).where(access_users.c.username == username)
                )
            ).first()
        return _user(row) if row is not None else None

    async def secrets(self, username: str) -> tuple[str | None, str | None]:
        """(password hash, TOTP secret) of a user; (None, None) when there is no such user."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(access_users.c.password_hash, access_users.c.totp_secret).where(
                        access_users.c.username == username
                    )
                )
            ).first()
        return (row.password_hash, row.totp_secret) if row is not None else (None, None)

    async def list(self) -> list[User]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(access_users).order_by(access_users.c.username))
            return [_user(row) for row in rows]

    async def count(self) -> int:
        async with self.engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(access_users))).scalar()
                or 0
            )

    async def create(
        self,
        username: str,
        role: str,
        source: str = "local",
        password_hash: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
    ) -> User:
        """Add a user; raises AccessConfigError when the name is taken or malformed."""
        if not username or len(username) > 255 or username != username.strip():
            raise AccessConfigError(f"invalid username {username!r}")
        if source not in SOURCES:
            raise AccessConfigError(f"unknown user source {source!r}")
        if await self.get(username) is not None:
            raise AccessConfigError(f"user {username!r} already exists")
        async with writer(self.engine).begin() as connection:
            await connection.execute(
                access_users.insert().values(
                    username=username,
                    role=role,
                    source=source,
                    display_name=display_name,
                    email=email,
                    password_hash=password_hash,
                    disabled=0,
                    failed_logins=0,
                    created_at=time.time(),
                )
            )
        created = await self.get(username)
        assert created is not None
        return created

    async def change(self, username: str, **values: Any) -> bool:
        """Set columns of one user (role, password_hash, totp_secret, disabled, ...)."""
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                update(access_users).where(access_users.c.username == username).values(**values)
            )
        return bool(result.rowcount)

    async def delete(self, username: str) -> bool:
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                delete(access_users).where(access_users.c.username == username)
            )
        return bool(result.rowcount)

    async def record_failure(self, username: str, max_failures: int, lock_seconds: float) -> bool:
        """Count a failed login; returns True when this failure locks the account."""
        async with writer(self.engine).begin() as connection:
            row = (
                await connection.execute(
                    select(access_users.c.failed_logins).where(access_users.c.username == username)
                )
            ).first()
            if row is None:
                return False
            failures = row.failed_logins + 1
            locks = failures >= max_failures
            await connection.execute(
                update(access_users)
                .where(access_users.c.username == username)
                .values(
                    failed_logins=0 if locks else failures,
                    locked_until=time.time() + lock_seconds if locks else None,
                )
            )
        return locks

    async def record_login(self, username: str) -> None:
        await self.change(username, failed_logins=0, locked_until=None, last_login=time.time())
