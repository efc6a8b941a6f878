"""Guest links over HTTP: a tester makes one, guests chat without a login on the link's model
version, their conversations are tagged; expired, revoked and forged links stop working."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from parley.access.audit import AuditFilter
from parley.access.service import Access
from parley.agent import Agent
from parley.models.service import Releases
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from parley.server.bootstrap import open_sharing
from parley.server.channels.base import ChannelContext
from parley.server.metrics import ServerMetrics
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import share_links
from parley.studio.service import Studio
from tests.access.conftest import Session, login, releases  # noqa: F401 (fixture)
from tests.server.conftest import client_for
from tests.server.helpdesk import GREETING, helpdesk_model, helpdesk_variant

OTHER_GREETING = "Welcome to the second version of the help desk."
MAX_CHARS = 300


@pytest.fixture(scope="module")
def other_model() -> Path:
    """A second version of the help-desk model, with another greeting."""
    return helpdesk_variant(OTHER_GREETING)


@pytest.fixture
def holder(store: SQLTrackerStore) -> AgentHolder:
    """The help-desk model served on the studio's tracker store, able to load other versions."""

    def load(path: Path) -> Agent:
        return Agent.load(path, tracker_store=store)

    return AgentHolder(load(helpdesk_model()), helpdesk_model(), load)


@pytest.fixture
def server(
    studio: Studio,
    access: Access,
    holder: AgentHolder,
    releases: Releases,  # noqa: F811
) -> ParleyServer:
    config = ServerConfig(enable_api=True, max_message_chars=MAX_CHARS)
    metrics = ServerMetrics()
    context = ChannelContext(holder, metrics, config)
    studio.share = open_sharing(studio, holder, releases, context, studio.project)
    return create_app(holder, config, metrics, access=access, studio=studio)


async def create_link(
    session: Session, name: str, expected: int = 201, **form: str
) -> tuple[str, httpx.Response]:
    """Create a link from the share page's form; returns (its URL path, the response)."""
    response = await session.client.post(
        "/studio/share", data={"name": name, **form}, headers={"X-CSRF-Token": session.csrf}
    )
    assert response.status_code == expected, response.text
    found = re.search(
        r'id="share-url" readonly size="90" value="http://testserver([^"]+)"', response.text
    )
    return (found.group(1) if found else ""), response


async def say(guest: httpx.AsyncClient, path: str, text: str, sender: str = "x") -> httpx.Response:
    return await guest.post(f"{path}/webhook", json={"sender": sender, "message": text})


def texts(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [message.get("text", "") for message in response.json()]


async def link_row(engine: object, name: str) -> dict[str, object]:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        row = (
            await connection.execute(select(share_links).where(share_links.c.name == name))
        ).one()
    return dict(row._mapping)


async def test_a_tester_shares_a_link_and_the_guest_conversation_is_tagged(
    server: ParleyServer, studio: Studio, access: Access, store: SQLTrackerStore
) -> None:
    alpha_before = await store.load("alpha")
    session = await login(server, "tester")
    page = await session.client.get("/studio/share")
    assert page.status_code == 200
    assert 'id="share-form"' in page.text and "the served model" in page.text
    assert page.text.count("<option") == 1  # nothing registered: the served model only
    path, created = await create_link(session, "pilot-team", days="2")
    assert path.startswith("/share/")
    assert "tester" in created.text and "pilot-team" in created.text
    row = await link_row(studio.engine, "pilot-team")
    token = path.removeprefix("/share/")
    assert row["link_id"] == token.split("_")[0]
    assert token.split("_", 1)[1] not in str(row.values())  # only a hash of the secret is kept
    assert 2 * 86400 - 60 < float(row["expires_at"]) - time.time() <= 2 * 86400  # type: ignore[arg-type]

    async with client_for(server) as guest:  # no login
        chat = await guest.get(path)
        assert chat.status_code == 200
        assert f'"rest_url": "{path}/webhook"' in chat.text
        assert chat.headers["referrer-policy"] == "no-referrer"
        assert any(GREETING in t for t in texts(await say(guest, path, "hello", sender="alpha")))
        assert texts(
            await say(guest, path, "bye", sender="bravo")
        )  # a sender in the body is ignored
    assert await store.load("alpha") == alpha_before  # no other conversation was touched

    async with await login(server, "analyst") as analyst:
        listed = await analyst.get("/studio/conversations?tag=pilot-team")
    ids = re.findall(r'<td><a href="/studio/conversations/([^"/?#]+)">', listed.text)
    assert len(ids) == 1 and ids[0].startswith(f"share-{row['link_id']}-")
    assert "pilot-team" in listed.text
    users = [e for e in await store.load(ids[0]) or [] if e["event"] == "user"]
    assert [e["text"] for e in users] == ["hello", "bye"]
    assert {e["input_channel"] for e in users} == {"share"}

    listing = await session.client.get("/studio/share")
    assert re.search(r'<td class="conversations">1</td>', listing.text)
    entries = await access.audit.query(AuditFilter(action="share_create"))
    assert [(e.actor, e.target) for e in entries] == [("tester", "pilot-team")]
    await session.client.aclose()


async def test_each_guest_gets_a_conversation_of_their_own(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    session = await login(server, "tester")
    first, _ = await create_link(session, "first")
    second, _ = await create_link(session, "second")
    await session.client.aclose()
    async with client_for(server) as one, client_for(server) as two:
        await one.get(first)
        await two.get(first)
        texts(await say(one, first, "hello"))
        texts(await say(two, first, "hello"))
        [cookie] = [c for c in one.cookies.jar if c.name.startswith("parley_guest_")]
        other_link = f"parley_guest_{second.split('/')[-1].split('_')[0]}"
        async with client_for(server) as stranger:
            for path, header in (
                (first, f"{cookie.name}={cookie.value}"),  # the same cookie: the same guest
                (first, f"{cookie.name}={cookie.value[:-4]}AAAA"),  # forged: a new guest
                (second, f"{other_link}={cookie.value}"),  # sealed for another link: a new guest
            ):
                texts(
                    await stranger.post(
                        f"{path}/webhook",
                        json={"sender": "x", "message": "hello"},
                        headers={"Cookie": header},
                    )
                )
    senders = sorted(s for s in await store.senders() if s.startswith("share-"))
    assert len(senders) == 4
    users = [[e for e in await store.load(s) or [] if e["event"] == "user"] for s in senders]
    assert sorted(len(u) for u in users) == [1, 1, 1, 2]  # only the cookie's holder wrote twice


async def test_an_expired_and_a_revoked_link_stop_working(
    server: ParleyServer, studio: Studio, access: Access
) -> None:
    session = await login(server, "tester")
    expiring, _ = await create_link(session, "expiring")
    revoked, _ = await create_link(session, "revoked")
    async with client_for(server) as guest:
        for path in (expiring, revoked):
            assert (await guest.get(path)).status_code == 200
            texts(await say(guest, path, "hello"))
        async with writer(studio.engine).begin() as connection:
            await connection.execute(
                update(share_links)
                .where(share_links.c.name == "expiring")
                .values(expires_at=time.time() - 1)
            )
        link_id = revoked.split("/")[-1].split("_")[0]
        refused = await session.client.post(
            f"/studio/share/{link_id}/revoke", headers={"X-CSRF-Token": session.csrf}
        )
        assert refused.status_code == 200
        assert re.search(r'<td class="state">revoked by tester</td>', refused.text)
        for path, word in ((expiring, "expired"), (revoked, "revoked")):
            page = await guest.get(path)
            assert (
                page.status_code == 410
                and f"This link {'has expired' if word == 'expired' else 'was revoked'}"
                in page.text
            )
            reply = await say(guest, path, "hello again")  # the guest still holds its cookie
            assert reply.status_code == 410, reply.text
        unknown = f"{expiring.rsplit('_', 1)[0]}_{'x' * 43}"  # a real id, a wrong secret
        for path in (unknown, "/share/nothing-here"):
            assert (await guest.get(path)).status_code == 404
            assert (await say(guest, path, "hello")).status_code == 404
    again = await session.client.post(
        f"/studio/share/{link_id}/revoke", headers={"X-CSRF-Token": session.csrf}
    )
    assert again.status_code == 200
    missing = await session.client.post(
        "/studio/share/0000000000000000/revoke", headers={"X-CSRF-Token": session.csrf}
    )
    assert missing.status_code == 404
    await session.client.aclose()
    entries = await access.audit.query(AuditFilter(action="share_revoke"))
    assert [(e.actor, e.target) for e in entries] == [("tester", "revoked")] * 2


async def test_a_link_that_cannot_be_made_is_refused_with_a_reason(
    server: ParleyServer, studio: Studio
) -> None:
    session = await login(server, "tester")
    await create_link(session, "taken")
    _, response = await create_link(session, "taken", 409)
    assert "exists already" in response.text
    for form, reason in (
        ({"name": "zero", "days": "0"}, "at most 30 days"),
        ({"name": "long", "days": "31"}, "at most 30 days"),
        ({"name": "a/b"}, "letters, digits"),
        ({"name": "pinned", "version": "no-such-version"}, "No registered model version"),
    ):
        name = form.pop("name")
        _, response = await create_link(session, name, 400, **form)
        assert reason in response.text, response.text
        assert 'id="share-form"' in response.text  # the form comes back to be corrected
    await session.client.aclose()
    async with studio.engine.connect() as connection:
        names = (await connection.execute(select(share_links.c.name))).scalars().all()
    assert names == ["taken"]


async def test_the_channel_size_limits_apply_to_guests(server: ParleyServer) -> None:
    session = await login(server, "tester")
    path, _ = await create_link(session, "limits")
    await session.client.aclose()
    async with client_for(server) as guest:
        too_long = await say(guest, path, "a" * (MAX_CHARS + 1))
        assert too_long.status_code == 413
        not_json = await guest.post(f"{path}/webhook", content=b"{nope")
        assert not_json.status_code == 400


async def test_each_link_is_answered_by_its_own_model_version(
    server: ParleyServer,
    releases: Releases,  # noqa: F811
    other_model: Path,
    store: SQLTrackerStore,
) -> None:
    served = await releases.registry.register(helpdesk_model())
    other = await releases.registry.register(other_model)
    assert served.version != other.version
    session = await login(server, "tester")
    page = await session.client.get("/studio/share")
    assert f'<option value="{other.version}"' in page.text
    links = {
        "on-served": (await create_link(session, "on-served", version=served.version))[0],
        "on-other": (await create_link(session, "on-other", version=other.version))[0],
        "current": (await create_link(session, "current"))[0],
    }
    await session.client.aclose()
    replies: dict[str, str] = {}
    async with client_for(server) as guest:
        for name, path in links.items():
            replies[name] = " ".join(texts(await say(guest, path, "hello")))
    assert GREETING in replies["on-served"] and GREETING in replies["current"]
    assert OTHER_GREETING in replies["on-other"] and GREETING not in replies["on-other"]
    models = {}
    for sender in await store.senders():
        if sender.startswith("share-"):
            events = await store.load(sender) or []
            models[sender] = {e["metadata"]["model_id"] for e in events if e["event"] == "action"}
    assert sorted(map(sorted, models.values())) == sorted(
        [[served.version], [served.version], [other.version]]
    )
