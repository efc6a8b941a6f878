"""The guest links' table on SQLite and PostgreSQL: tokens resolve by their hash only, names are
unique, a conversation is tagged once, conversations are counted per link, revocation sticks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio import queries
from parley.studio.share import EXPIRED, REVOKED, ShareLinks, ShareNameTaken, guest_sender
from tests.stores.conftest import drop_schema, postgres_settings, unique_name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLTrackerStore]:
    if request.param == "sqlite":
        opened = await SQLTrackerStore.open(SQLSettings(db="share.db"), tmp_path)
        yield opened
        await opened.close()
        return
    schema = unique_name("share")
    opened = await SQLTrackerStore.open(postgres_settings(schema), tmp_path)
    try:
        yield opened
    finally:
        await opened.close()
        await drop_schema(schema)


async def test_links_resolve_count_tag_and_revoke(store: SQLTrackerStore) -> None:
    links = ShareLinks(store.engine)
    token, link = await links.create(" pilot ", None, time.time() + 60, "tess")
    assert link.name == "pilot" and link.state() == "active"
    assert await links.find(token) == link
    assert await links.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await links.find(link.link_id) is None
    with pytest.raises(ShareNameTaken, match="pilot"):
        await links.create("pilot", "v2", time.time() + 60, "tess")
    other_token, other = await links.create("other", "v2", time.time() - 1, "tess")
    assert (await links.find(other_token)).state() == EXPIRED  # type: ignore[union-attr]

    mine = guest_sender(link.link_id, "a" * 32)
    for sender in (mine, guest_sender(link.link_id, "b" * 32), guest_sender(other.link_id, "c")):
        await store.append(sender, [{"event": "user", "timestamp": 1.0, "text": "hi"}])
    await store.append(f"share-{link.link_id}x-d", [{"event": "user", "timestamp": 1.0}])
    assert await links.conversations(link.link_id) == 2
    assert await links.conversations(other.link_id) == 1

    await links.tag(mine, link)
    await links.tag(mine, link)  # once only
    assert (await queries.marks(store.engine, mine)).tags == ["pilot"]

    assert await links.revoke(link.link_id, "admin") is True
    assert await links.revoke(link.link_id, "admin") is False
    revoked = await links.get(link.link_id)
    assert revoked is not None and revoked.state() == REVOKED and revoked.revoked_by == "admin"
    assert [found.name for found in await links.list()] == ["other", "pilot"]
