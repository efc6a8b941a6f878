"""Runs a built server under uvicorn (HTTP/1.1, uvloop and httptools when installed)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from parley.server.app import ParleyServer
from parley.server.process import prepare_serving_process

logger = logging.getLogger("parley.server")


async def serve(
    server: ParleyServer,
    host: str = "0.0.0.0",
    port: int = 5005,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    ssl_password: str | None = None,
    started: float | None = None,
    sockets: list[socket.socket] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted (in the running loop); logs the start time once listening.

    `sockets`: already listening sockets to serve on (a worker's) instead of host and port;
    `on_ready` is called once the server accepts connections.
    """
    prepare_serving_process()
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
        http=http_protocol(),
    )
    await _Server(config, started, on_ready).serve(sockets=sockets)


def http_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol with one write per response when httptools is installed
    (`uvicorn[standard]`), else uvicorn's choice."""
    try:
        from parley.server.http_protocol import CoalescingHttpToolsProtocol
    except ImportError:
        return "auto"
    return CoalescingHttpToolsProtocol


class _Server(uvicorn.Server):
    """uvicorn's server, logging when it is ready and exiting 0 after a graceful stop."""

    def __init__(
        self,
        config: uvicorn.Config,
        started: float | None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.started_at = started
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.on_ready is not None and not self.should_exit:
            self.on_ready()
            return  # the supervisor logs when all workers are ready
        if self.started_at is not None and not self.should_exit:
            seconds = time.perf_counter() - self.started_at
            logger.info("ready in %.2f s", seconds, extra={"start_seconds": round(seconds, 3)})

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which ends the process
        # with the signal's status; a stop that went well should exit 0 (systemd, containers).
        with super().capture_signals():
            yield
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()
                logger.info("stopped")


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed (faster I/O), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop
