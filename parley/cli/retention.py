"""`parley data purge` and `parley data delete`: retention and erasure (GDPR)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer

from parley.cli._access import audit_cli_action
from parley.cli._stores import ENDPOINTS_OPTION, PROJECT_OPTION, parse_duration, read_endpoints
from parley.cli.app import console, data_app


@data_app.command("purge")
def purge(
    older_than: str = typer.Option(
        ..., "--older-than", help="Delete conversations with no event newer than this (e.g. 90d)."
    ),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Delete every stored conversation inactive for longer than --older-than."""
    from parley.stores.factory import create_tracker_store

    cutoff = time.time() - parse_duration(older_than)
    config = read_endpoints(project, endpoints)

    async def run() -> int:
        store = await create_tracker_store(config, project)
        try:
            return await store.purge(cutoff)
        finally:
            await store.close()

    removed = asyncio.run(run())
    audit_cli_action(project, "conversation_purge", details={"older_than": older_than,
                                                             "deleted": removed})  # fmt: skip
    console.print(f"Deleted {removed} conversation(s) inactive for more than {older_than}.")


@data_app.command("delete")
def delete(
    sender_id: str = typer.Argument(..., help="The conversation (sender) id to erase."),
    project: Path = PROJECT_OPTION,
    endpoints: Path | None = ENDPOINTS_OPTION,
) -> None:
    """Erase one conversation and all its events (a user's deletion request), including the
    copies an SQL event broker holds."""
    from parley.stores.broker_sql import SQLEventBroker
    from parley.stores.factory import create_event_broker, create_tracker_store

    config = read_endpoints(project, endpoints)

    async def run() -> tuple[bool, int | None]:
        store = await create_tracker_store(config, project)
        try:
            existed = await store.delete(sender_id)
        finally:
            await store.close()
        broker = await create_event_broker(config, project)
        if broker is None:
            return existed, None
        try:
            published = (
                await broker.delete(sender_id) if isinstance(broker, SQLEventBroker) else None
            )
        finally:
            await broker.close()
        return existed, published

    existed, published = asyncio.run(run())
    audit_cli_action(project, "conversation_delete", sender_id, {"existed": existed})
    if published is not None:
        console.print(f"Deleted {published} published event(s) from the SQL event broker.")
    elif config.event_broker is not None:
        console.print(
            "Events already published to the message broker are outside Parley: erase them "
            "in its consumers too.",
            style="yellow",
        )
    if existed:
        console.print(f"Deleted conversation {sender_id!r}.", highlight=False)
    else:
        console.print(f"No conversation {sender_id!r} is stored.", highlight=False)
        raise typer.Exit(1)
