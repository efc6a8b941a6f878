"""`Studio`: what the studio's pages work on (the SQL tracker store, its cipher, the project's
data files, the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.crypto import EventCipher
from parley.stores.sql_engine import writer

if TYPE_CHECKING:
    from parley.access.service import Access
    from parley.stores.sql import SQLTrackerStore
    from parley.studio.share import Sharing


@dataclass
class Studio:
    """Built by `parley run` when the project has `access:` and a SQL tracker store."""

    store: SQLTrackerStore
    project: Path
    access: Access
    threshold: float = 0.6  # below this NLU confidence a message goes to the inbox
    share: Sharing | None = None  # guest links (/studio/share), when the server can serve them
    endpoints: Path | None = None  # `parley run --endpoints`: the registry trainings register in

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @property
    def cipher(self) -> EventCipher:
        return self.store.cipher

    async def delete_conversation(self, sender_id: str) -> bool:
        """Delete the conversation's events and what reviewers recorded on it."""
        from parley.studio.index import forget
        from parley.studio.queries import forget_marks

        deleted = await self.store.delete(sender_id)
        async with writer(self.engine).begin() as connection:
            await forget(connection, sender_id)
            await forget_marks(connection, sender_id)
        return deleted
