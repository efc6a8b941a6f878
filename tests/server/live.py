"""Run a server for real (uvicorn on 127.0.0.1, a free port) inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from parley.server.serve import http_protocol
from tests.ports import free_port


@asynccontextmanager
async def running(app: Any, **options: Any) -> AsyncIterator[int]:
    """Serve `app` until the block ends (with the HTTP protocol `parley run` uses); yields
    the port."""
    port = free_port()
    options.setdefault("http", http_protocol())
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
