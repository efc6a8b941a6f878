"""GET /health/ready says "not ready" while the tracker store (PostgreSQL, reached through a
TCP relay the test cuts) does not answer, and "ready" again once it does."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from parley.agent import Agent
from parley.dialogue.model import DialogueModel
from parley.models import ModelManifest
from parley.project import load_project
from parley.server.app import create_app
from parley.server.runtime import AgentHolder
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from tests.action_runners.support import BANKBOT
from tests.stores.conftest import POSTGRES, drop_schema, unique_name

pytestmark = pytest.mark.integration


class Relay:
    """Forwards 127.0.0.1:<port> to PostgreSQL; `cut()` drops every connection and stops
    listening, `restore()` listens on the same port again."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", POSTGRES["port"])
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_ready_follows_the_tracker_store(tmp_path: Path) -> None:
    relay = Relay()
    await relay.restore()
    schema = unique_name("ready")
    settings = SQLSettings.from_endpoint({**POSTGRES, "port": relay.port, "schema": schema}, "t")
    store = await SQLTrackerStore.open(settings, tmp_path)
    model = DialogueModel.train(load_project(BANKBOT))
    agent = Agent(model, ModelManifest.new({}, ("dialogue",)), tracker_store=store)
    server = create_app(AgentHolder(agent, None))
    transport = httpx.ASGITransport(app=server)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://parley") as client:
            assert (await client.get("/health/ready")).status_code == 200
            await relay.cut()
            down = await client.get("/health/ready")
            assert down.status_code == 503
            assert "tracker store is not reachable" in down.text
            assert (await client.get("/health/live")).status_code == 200  # not restarted
            await relay.restore()
            for _ in range(20):  # the pool drops its broken connections and reconnects
                if (await client.get("/health/ready")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await client.get("/health/ready")).status_code == 200
    finally:
        await store.close()
        await drop_schema(schema)
