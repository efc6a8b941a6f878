"""`parley export`: publish stored events to the configured event broker again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from parley.cli._access import audit_cli_action
from parley.cli._stores import ENDPOINTS_OPTION, PROJECT_OPTION, parse_time, read_endpoints
from parley.cli.app import app, console

_BATCH = 500  # events per publish call, so a huge conversation is not held in memory


@app.command("export")
def export(
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
    minimum_timestamp: str | None = typer.Option(
        None, "--minimum-timestamp", help="Only events at or after this (epoch or ISO time)."
    ),
    maximum_timestamp: str | None = typer.Option(
        None, "--maximum-timestamp", help="Only events before this (epoch or ISO time)."
    ),
    conversation_ids: str | None = typer.Option(
        None, "--conversation-ids", help="Comma-separated conversation ids (default: all)."
    ),
) -> None:
    """Replay stored events to the event broker, with their original event ids."""
    from parley.stores.base import EventDict
    from parley.stores.errors import StoreConfigError
    from parley.stores.factory import create_event_broker, create_tracker_store

    config = read_endpoints(project, endpoints)
    if config.event_broker is None:
        raise StoreConfigError(
            "endpoints.yml has no event_broker to export to; add one (type: pika or sql)"
        )
    since, until = parse_time(minimum_timestamp), parse_time(maximum_timestamp)
    senders = (
        [s.strip() for s in conversation_ids.split(",") if s.strip()] if conversation_ids else None
    )

    async def run() -> int:
        store = await create_tracker_store(config, project)
        broker = await create_event_broker(config, project)
        assert broker is not None
        published = 0
        try:
            batch: list[EventDict] = []
            current: str | None = None
            async for sender_id, event in store.stream_events(senders, since, until):
                if batch and (sender_id != current or len(batch) >= _BATCH):
                    await broker.publish(current or "", batch)
                    published += len(batch)
                    batch = []
                current = sender_id
                batch.append(event)
            if batch and current is not None:
                await broker.publish(current, batch)
                published += len(batch)
        finally:
            await broker.close()
            await store.close()
        return published

    count = asyncio.run(run())
    audit_cli_action(project, "conversation_export", conversation_ids,
                     {"events": count, "since": since, "until": until})  # fmt: skip
    console.print(f"Published {count} event(s) to the event broker.")
