"""Runs a built server under uvicorn (HTTP/1.1, uvloop and httptools when installed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from parley.server.app import ParleyServer

logger = logging.getLogger("parley.server")


async def serve(
    server: ParleyServer,
    host: str = "0.0.0.0",
    port: int = 5005,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    ssl_password: str | None = None,
    started: float | None = None,
) -> None:
    """Serve until interrupted (in the running loop); logs the start time once listening."""
    config = uvicorn.Config(
        server,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        ssl_keyfile_password=ssl_password,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    uvicorn_server = uvicorn.Server(config)
    original_startup = uvicorn_server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets=sockets)  # type: ignore[arg-type]
        if started is not None:
            logger.info(
                "ready in %.2f s",
                time.perf_counter() - started,
                extra={"start_seconds": round(time.perf_counter() - started, 3)},
            )

    uvicorn_server.startup = startup  # type: ignore[method-assign]
    await uvicorn_server.serve()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed (faster I/O), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop
