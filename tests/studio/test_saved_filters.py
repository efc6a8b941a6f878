"""Saved filters: a reviewer saves the list's filter set under a name, private or shared, applies
it from the list, and deletes it; others see shared ones only, and only the owner or an
administrator deletes a shared one."""

from __future__ import annotations

import re

import httpx

from parley.server import ParleyServer
from tests.access.conftest import login
from tests.studio.test_pages import listed


def saved(html: str) -> dict[str, str]:
    """name -> the link it applies."""
    return dict(
        (name, href.replace("&amp;", "&"))
        for href, name in re.findall(
            r'<span class="saved-filter" data-name="[^"]*"><a href="([^"]+)">([^<]+)</a>', html
        )
    )


def filter_id(html: str, name: str) -> str:
    found = re.search(
        rf'data-name="{re.escape(name)}">.*?hx-delete="/studio/filters/(\d+)"', html, re.S
    )
    assert found is not None, html
    return found.group(1)


async def _save(client: httpx.AsyncClient, csrf: str, **form: str) -> httpx.Response:
    return await client.post("/studio/filters", data=form, headers={"X-CSRF-Token": csrf})


async def test_a_saved_filter_is_listed_and_applies_its_filters(server: ParleyServer) -> None:
    session = await login(server, "analyst")
    async with session as client:
        page = await client.get("/studio/conversations?model=m2&low_confidence=true&page=1")
        query = re.search(r'name="query" value="([^"]*)"', page.text)
        assert query is not None
        response = await _save(
            client, session.csrf, name="  unsure   m2 ", query=query.group(1).replace("&amp;", "&")
        )
        assert response.status_code == 200
        assert saved(response.text) == {
            "unsure m2": "/studio/conversations?low_confidence=true&model=m2"
        }
        listing = await client.get("/studio/conversations")
        link = saved(listing.text)["unsure m2"]
        assert listed((await client.get(link)).text) == {"bravo", "charlie"}
        # saving under the same name replaces it
        await _save(client, session.csrf, name="unsure m2", query="handoff=true")
        assert saved((await client.get("/studio/filters")).text) == {
            "unsure m2": "/studio/conversations?handoff=true"
        }


async def test_shared_filters_are_seen_by_all_and_deleted_by_owner_or_admin(
    server: ParleyServer,
) -> None:
    analyst = await login(server, "analyst")
    async with analyst as client:
        await _save(client, analyst.csrf, name="handoffs", query="handoff=true", shared="true")
        await _save(client, analyst.csrf, name="private", query="fallback=true")
        own = (await client.get("/studio/filters")).text
    assert set(saved(own)) == {"handoffs", "private"}
    shared_id, private_id = filter_id(own, "handoffs"), filter_id(own, "private")

    annotator = await login(server, "annotator")
    async with annotator as client:
        theirs = (await client.get("/studio/filters")).text
        assert set(saved(theirs)) == {"handoffs"}  # not the private one
        assert "(shared by analyst)" in theirs
        assert "hx-delete" not in theirs  # not theirs to delete
        headers = {"X-CSRF-Token": annotator.csrf}
        refused = await client.delete(f"/studio/filters/{shared_id}", headers=headers)
        assert refused.status_code == 403 and "owner or an administrator" in refused.text
        hidden = await client.delete(f"/studio/filters/{private_id}", headers=headers)
        assert hidden.status_code == 404

    admin = await login(server, "admin")
    async with admin as client:
        headers = {"X-CSRF-Token": admin.csrf}
        assert "hx-delete" in (await client.get("/studio/filters")).text
        assert (
            await client.delete(f"/studio/filters/{private_id}", headers=headers)
        ).status_code == 404
        deleted = await client.delete(f"/studio/filters/{shared_id}", headers=headers)
        assert deleted.status_code == 200 and saved(deleted.text) == {}

    async with await login(server, "analyst") as client:
        assert set(saved((await client.get("/studio/filters")).text)) == {"private"}


async def test_the_owner_deletes_their_own_filter(server: ParleyServer) -> None:
    session = await login(server, "annotator")
    async with session as client:
        html = (await _save(client, session.csrf, name="greetings", query="intent=greet")).text
        response = await client.delete(
            f"/studio/filters/{filter_id(html, 'greetings')}",
            headers={"X-CSRF-Token": session.csrf},
        )
        assert response.status_code == 200 and saved(response.text) == {}


async def test_a_filter_that_is_not_one_is_refused_and_nothing_is_saved(
    server: ParleyServer,
) -> None:
    session = await login(server, "analyst")
    async with session as client:
        bad = await _save(client, session.csrf, name="odd", query="min_turns=lots")
        assert bad.status_code == 400 and "min_turns" in bad.text
        unnamed = await _save(client, session.csrf, name="   ", query="handoff=true")
        assert unnamed.status_code == 400 and "name" in unnamed.text
        assert saved((await client.get("/studio/filters")).text) == {}


async def test_saved_filters_need_conversations_read(server: ParleyServer) -> None:
    session = await login(server, "tester")
    async with session as client:
        assert (await client.get("/studio/filters")).status_code == 403
        refused = await _save(client, session.csrf, name="x", query="handoff=true")
        assert refused.status_code == 403
