"""A TCP port on 127.0.0.1 that nothing listens on, for the tests and the benchmarks (bench/)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port free a moment ago: for a server to bind, or for a client to be refused on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
