"""An access-controlled server on a temporary SQLite store, with one user per built-in role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from parley.access.passwords import hash_password
from parley.access.permissions import BUILTIN_ROLES
from parley.access.routes import CSRF_COOKIE
from parley.access.service import Access
from parley.access.settings import AccessSettings
from parley.agent import Agent
from parley.models.service import Releases, open_releases
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from parley.server.bootstrap import open_sharing
from parley.server.channels.base import ChannelContext
from parley.server.metrics import ServerMetrics
from parley.server.rollout_api import rollout_router
from parley.stores.memory import InMemoryTrackerStore
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings, writer
from parley.stores.sql_schema import access_sessions
from parley.studio.service import Studio
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent

PASSWORD = "correct horse battery"


@dataclass
class Session:
    """A logged-in browser: its client carries the cookies, `csrf` goes in X-CSRF-Token."""

    client: httpx.AsyncClient
    username: str
    csrf: str

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()


@pytest.fixture(scope="module")
def helpdesk() -> Agent:
    return helpdesk_agent()


async def open_access(tmp_path: Path, **settings: object) -> Access:
    return await Access.open(AccessSettings.model_validate(settings), tmp_path)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD hashed once: argon2id takes most of a second on a busy machine."""
    return hash_password(PASSWORD)


@pytest.fixture
async def access(tmp_path: Path, password_hash: str) -> AsyncIterator[Access]:
    """The access store with a user named after each built-in role (password PASSWORD)."""
    access = await open_access(tmp_path)
    for role in BUILTIN_ROLES:
        await access.users.create(role, role, "local", password_hash)
    yield access
    await access.close()


@pytest.fixture
async def releases(tmp_path: Path) -> AsyncIterator[Releases]:
    """The model registry and rollout store (no model registered, no rollout running)."""
    opened = await open_releases({}, tmp_path)
    yield opened
    await opened.close()


@pytest.fixture
async def studio(access: Access, tmp_path: Path) -> AsyncIterator[Studio]:
    """The studio on a SQLite tracker store holding conversations c1 and c2 (one message each)."""
    store = await SQLTrackerStore.open(SQLSettings(db="tracker.db"), tmp_path)
    for sender_id in ("c1", "c2"):
        parse = {"intent": {"name": "greet", "confidence": 0.3}, "entities": []}
        await store.append(
            sender_id, [{"event": "user", "text": "hi", "timestamp": 1.0, "parse_data": parse}]
        )
    (tmp_path / "data").mkdir()
    yield Studio(store, tmp_path, access)
    await store.close()


@pytest.fixture
def server(access: Access, helpdesk: Agent, releases: Releases, studio: Studio) -> ParleyServer:
    """Every guarded route Parley serves: the HTTP API, access's own, the rollout's, the
    studio's."""
    config = ServerConfig(enable_api=True, auth_token="legacy-admin-token")
    rollout = rollout_router(releases, InMemoryTrackerStore())
    holder, metrics = AgentHolder(helpdesk, None), ServerMetrics()
    context = ChannelContext(holder, metrics, config)
    studio.share = open_sharing(studio, holder, releases, context, studio.project)
    return create_app(
        holder, config, metrics, access=access, extra_routers=[rollout], studio=studio
    )


async def login(server: ParleyServer, username: str, password: str = PASSWORD) -> Session:
    client = client_for(server)
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    assert client.cookies.get(CSRF_COOKIE) == response.json()["csrf_token"]
    return Session(client, username, response.json()["csrf_token"])


async def age_sessions(access: Access, username: str, idle_seconds: float) -> None:
    """Make every session of `username` look idle for `idle_seconds`."""
    import time

    async with writer(access.engine).begin() as connection:
        await connection.execute(
            update(access_sessions)
            .where(access_sessions.c.username == username)
            .values(last_seen=time.time() - idle_seconds)
        )
