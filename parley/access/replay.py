"""One-time values (an OIDC login's state, a SAML assertion's id): the second use is refused.

Kept in the SQL store, so a replay to another worker or after a restart is refused too.
"""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import access_used_ids


async def first_use(engine: AsyncEngine, value: str, expires_at: float) -> bool:
    """True the first time `value` is seen (until `expires_at`), False for a replay."""
    try:
        async with writer(engine).begin() as connection:
            await connection.execute(
                delete(access_used_ids).where(access_used_ids.c.expires_at < time.time())
            )
            await connection.execute(
                access_used_ids.insert().values(id=value[:255], expires_at=expires_at)
            )
    except IntegrityError:
        return False
    return True
