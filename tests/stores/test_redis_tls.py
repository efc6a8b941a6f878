"""The Redis stores over TLS, against a real redis-server started here with TLS only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.stores import StoreError, create_lock_store, create_tracker_store
from tests.action_runners.support import PKI, make_pki
from tests.ports import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, PKI]]:
    """redis-server on 127.0.0.1 with TLS only (no plain port); clients need no certificate."""
    pki = make_pki(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port", "0",
            "--bind", "127.0.0.1",
            "--tls-port", str(port),
            "--tls-cert-file", str(pki.server_cert),
            "--tls-key-file", str(pki.server_key),
            "--tls-ca-cert-file", str(pki.ca_file),
            "--tls-auth-clients", "no",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, "redis-server did not start (built without TLS?)"
                assert time.monotonic() < deadline, "redis-server did not listen"
                time.sleep(0.05)
        yield port, pki
    finally:
        server.terminate()
        server.wait(10)


def _endpoints(port: int, **tls: str) -> dict[str, object]:
    redis = {"type": "redis", "url": "127.0.0.1", "port": port, "use_ssl": True, **tls}
    return {"tracker_store": redis, "lock_store": redis}


async def test_conversations_and_locks_over_tls(tls_redis: tuple[int, PKI], tmp_path: Path) -> None:
    port, pki = tls_redis
    # a relative path is taken from the project folder, as the other files of a project are
    endpoints = _endpoints(port, ssl_ca_certs=pki.ca_file.name)
    store = await create_tracker_store(endpoints, pki.ca_file.parent)
    locks = await create_lock_store(endpoints, pki.ca_file.parent)
    try:
        async with locks.lock("alice"):
            await store.append("alice", [{"event": "user", "timestamp": 1.0, "text": "hi"}])
        assert [e["text"] for e in await store.load("alice") or []] == ["hi"]
    finally:
        await store.close()
        await locks.close()  # type: ignore[attr-defined]


async def test_a_server_certificate_from_another_ca_is_refused(
    tls_redis: tuple[int, PKI], tmp_path: Path
) -> None:
    port, pki = tls_redis
    with pytest.raises(StoreError, match="cannot reach the Redis tracker store"):
        await create_tracker_store(_endpoints(port, ssl_ca_certs=str(pki.other_ca_file)), tmp_path)
