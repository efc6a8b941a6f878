"""A messaging platform's API faked on 127.0.0.1 (a real HTTP server that records each call),
signing keys for platforms that send JWTs, and the help-desk server with given credentials."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.ports import free_port
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent

Reply = Any | Callable[["Call"], Any]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


class FakePlatform:
    """Answers each (method, path) as told (JSON, 200 unless a status is given) and 404
    otherwise; `calls` lists what it received."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._routes: dict[tuple[str, str], tuple[int, Reply]] = {}
        self._changed = asyncio.Condition()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, reply: Reply, status: int = 200) -> None:
        self._routes[(method, path)] = (status, reply)

    def to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        call = Call(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            await request.read(),
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        status, reply = self._routes.get((request.method, request.path), (404, {"error": "?"}))
        body = reply(call) if callable(reply) else reply
        return web.json_response(body, status=status)

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10) -> list[Call]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.to(path)) >= count), timeout
            )
        return self.to(path)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakePlatform]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        try:
            yield self
        finally:
            await runner.cleanup()


class Signer:
    """An RSA key pair that signs JWTs, published as a JWK (or an X.509 certificate)."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, **extra: Any) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256", **extra}

    def certificate_pem(self) -> str:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import NameOID

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self.private, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def token(self, lifetime: float = 600, **claims: Any) -> str:
        now = int(time.time())
        body = {"iat": now, "nbf": now, "exp": now + int(lifetime), **claims}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


@asynccontextmanager
async def parley_with(
    credentials: dict[str, Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, ParleyServer]]:
    """The help-desk assistant served with these credentials; channels closed at the end."""
    server = create_app(AgentHolder(helpdesk_agent(), None), ServerConfig(credentials=credentials))
    try:
        async with client_for(server) as client:
            yield client, server
    finally:
        for channel in server.channels:
            await channel.close()


def channel_of(server: ParleyServer, name: str) -> Any:
    return next(c for c in server.channels if c.name == name)
