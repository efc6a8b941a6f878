"""SQL event broker: each published event becomes a row other systems can read (Rasa's `sql`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.base import EventDict
from parley.stores.codec import event_id_of
from parley.stores.errors import StoreError
from parley.stores.sql_engine import SQLSettings, create_engine, describe_error, migrate, writer
from parley.stores.sql_schema import broker_events


def broker_message(sender_id: str, event: EventDict) -> EventDict:
    """The wire form of a published event: Rasa's event JSON plus `sender_id`."""
    return {**event, "sender_id": sender_id}


class SQLEventBroker:
    """Writes published events to the `parley_broker_events` table."""

    def __init__(self, engine: AsyncEngine, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema

    @classmethod
    async def open(cls, settings: SQLSettings, project_root: Path) -> SQLEventBroker:
        broker = cls(create_engine(settings, project_root), settings.schema)
        try:
            await migrate(broker.engine, broker.schema)
        except Exception as exc:
            await broker.engine.dispose()
            raise StoreError(
                f"cannot open the SQL event broker database: {describe_error(exc)}; check "
                "event_broker in endpoints.yml"
            ) from exc
        return broker

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None:
        if not events:
            return
        rows = [
            {
                "sender_id": sender_id,
                "event_id": event_id_of(event),
                "data": json.dumps(broker_message(sender_id, event), ensure_ascii=False),
            }
            for event in events
        ]
        async with writer(self.engine).begin() as connection:
            await connection.execute(broker_events.insert(), rows)

    async def delete(self, sender_id: str) -> int:
        """Erase the published events of one conversation (GDPR); returns how many."""
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                broker_events.delete().where(broker_events.c.sender_id == sender_id)
            )
        return int(result.rowcount or 0)

    async def close(self) -> None:
        await self.engine.dispose()
