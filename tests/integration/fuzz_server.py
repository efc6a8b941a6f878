"""A real Parley server for the fuzzers: uvicorn on 127.0.0.1 in a thread of its own, serving the
help-desk assistant (`parley init`, its custom actions in-process) with its conversations in
SQLite or PostgreSQL (a schema of its own)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from parley.action_runners import create_action_runner
from parley.agent import Agent
from parley.server import AgentHolder, ServerConfig, create_app
from parley.server.serve import http_protocol
from parley.stores import SQLSettings, SQLTrackerStore
from tests.ports import free_port
from tests.server.helpdesk import helpdesk_agent, helpdesk_model

POSTGRES = {"dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "test"}
CREDENTIALS = {"rest": None, "socketio": {"session_persistence": True}}


@dataclass
class FuzzServer:
    """The running server: its port, and what was stored (read after it stops)."""

    port: int
    senders: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _open_store(kind: str, folder: Path) -> tuple[SQLTrackerStore, str | None]:
    if kind == "sqlite":
        return await SQLTrackerStore.open(SQLSettings(), folder), None
    schema = f"parley_fuzz_{uuid.uuid4().hex[:10]}"
    settings = SQLSettings.from_endpoint({**POSTGRES, "schema": schema}, "test")
    return await SQLTrackerStore.open(settings, folder), schema


async def _drop_schema(schema: str, folder: Path) -> None:
    from sqlalchemy import text

    from parley.stores.sql_engine import create_engine

    engine = create_engine(SQLSettings.from_endpoint(POSTGRES, "test"), folder)
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


@contextmanager
def fuzz_server(kind: str, folder: Path) -> Iterator[FuzzServer]:
    """Serve until the block ends; `kind` is "sqlite" or "postgresql"."""
    model = helpdesk_model()  # trained here, not in the server's thread
    served = FuzzServer(free_port())
    started = threading.Event()
    failure: list[BaseException] = []
    holder: list[uvicorn.Server] = []

    async def main() -> None:
        store, schema = await _open_store(kind, folder)
        try:
            # its custom actions in-process, through the action-server protocol
            actions = create_action_runner(
                {"action_endpoint": {"actions_module": "actions"}}, model.parent.parent
            )
            agent = helpdesk_agent(tracker_store=store, action_runner=actions)
            config = ServerConfig(
                enable_api=True,
                credentials=CREDENTIALS,
                model_folders=(model.parent,),
                body_idle_seconds=1.0,
            )
            app = create_app(AgentHolder(agent, model, Agent.load, release_delay=0), config)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host="127.0.0.1",
                    port=served.port,
                    log_config=None,
                    access_log=False,
                    http=http_protocol(),
                )
            )
            holder.append(server)
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.02)
            started.set()
            await task
            served.senders = await store.senders()
        finally:
            await store.close()
            if schema is not None:
                await _drop_schema(schema, folder)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test's thread
            failure.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=run, name=f"fuzz-server-{kind}", daemon=True)
    thread.start()
    started.wait(120)
    if failure:
        raise failure[0]
    try:
        yield served
    finally:
        if holder:
            holder[0].should_exit = True
        thread.join(60)
        if failure:
            raise failure[0]
