"""The studio's pages over HTTP, logged in as real users, on a real SQLite tracker store."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from parley.access.audit import AuditFilter
from parley.access.service import Access
from parley.server import ParleyServer
from parley.stores.crypto import EncryptionKey, EventCipher
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio import index
from parley.studio.queries import PAGE_SIZE
from tests.access.conftest import login
from tests.studio.conftest import NLU_COMMENT, T0, action, seed, user

ALL = {"alpha", "bravo", "charlie", "delta"}


def listed(html: str) -> set[str]:
    return set(re.findall(r'<td><a href="/studio/conversations/([^"/?#]+)">', html))


async def ids(client: httpx.AsyncClient, query: str) -> set[str]:
    response = await client.get(f"/studio/conversations?{query}")
    assert response.status_code == 200, response.text
    return listed(response.text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("channel=socketio", {"bravo"}),
        ("model=m2", {"bravo", "charlie"}),
        ("intent=greet", {"alpha", "charlie"}),
        ("action=utter_greet", {"alpha", "charlie"}),
        ("low_confidence=true", {"bravo", "charlie"}),
        ("low_confidence=true&threshold=0.35", {"bravo"}),
        ("fallback=true", {"bravo"}),
        ("handoff=true", {"alpha"}),
        ("min_turns=3", {"delta"}),
        ("max_turns=1", {"bravo", "charlie"}),
        ("active_from=2026-05-29&active_to=2026-05-30", {"bravo", "charlie"}),
        ("text=PRINTER", {"alpha"}),
        ("text=harl", {"charlie"}),  # the conversation id
        ("channel=socketio&model=m1", set()),
        ("active_from=&min_turns=&channel=&review=", ALL),  # a form's empty fields
    ],
)
async def test_each_filter_selects_its_conversations(
    server: ParleyServer, query: str, expected: set[str]
) -> None:
    async with await login(server, "analyst") as client:
        assert await ids(client, query) == expected


async def test_last_activity_orders_the_list_and_the_start_date_filters_it(
    server: ParleyServer,
) -> None:
    async with await login(server, "analyst") as client:
        html = (await client.get("/studio/conversations")).text
        order = re.findall(r'<td><a href="/studio/conversations/([^"/?#]+)">', html)
        assert order == ["delta", "charlie", "bravo", "alpha"]  # most recent activity first
        # conversations were created today (wall clock), whatever their events' timestamps
        assert await ids(client, "started_from=2020-01-01") == ALL
        assert await ids(client, "started_to=2020-01-01") == set()


async def test_the_list_is_paginated_on_the_server(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    for n in range(2 * PAGE_SIZE + 7):
        await store.append(f"bulk{n:03d}", [user("hi", "greet", 0.9, T0 + 10 * 86400 + n)])
    async with await login(server, "analyst") as client:
        first = await client.get("/studio/conversations?intent=greet")
        assert f"{2 * PAGE_SIZE + 7 + 2} conversations" in first.text
        assert len(listed(first.text)) == PAGE_SIZE
        assert "bulk106" in listed(first.text)  # newest first
        last = await client.get("/studio/conversations?intent=greet&page=3")
        assert listed(last.text) == {f"bulk{n:03d}" for n in range(7)} | {"alpha", "charlie"}
        assert "Page 3 of 3" in last.text


async def test_the_transcript_shows_parse_prediction_slots_and_model(server: ParleyServer) -> None:
    async with await login(server, "annotator") as client:
        html = (await client.get("/studio/conversations/alpha")).text
    line = re.search(r'id="line-4".*?</tr>', html, re.S)
    assert line is not None
    assert "my printer is on fire" in line.group(0)
    assert "report_problem" in line.group(0) and "0.91" in line.group(0)
    assert "device=printer" in line.group(0)
    assert re.search(r"action_handoff_to_human</td><td>TEDPolicy 0.80", html)
    assert 'device = "printer"' in html  # the slot set, as JSON
    assert 'class="model">m1<' in html
    assert 'id="flag-4"' in html  # an annotator may flag messages
    assert 'id="delete"' not in html and 'id="export"' not in html  # but not delete or export


async def test_tags_reviews_and_flags_are_kept_and_filter_the_list(server: ParleyServer) -> None:
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        tagged = await client.post(
            "/studio/conversations/bravo/tags", data={"tag": "gibberish"}, headers=headers
        )
        assert tagged.status_code == 200 and "gibberish" in tagged.text
        reviewed = await client.post(
            "/studio/conversations/charlie/review", data={"reviewed": "true"}, headers=headers
        )
        assert "Reviewed by annotator" in reviewed.text
        flagged = await client.post(
            "/studio/conversations/delta/flags/2", data={"on": "true"}, headers=headers
        )
        assert "Unflag" in flagged.text
        assert await ids(client, "tag=gibberish") == {"bravo"}
        assert await ids(client, "review=reviewed") == {"charlie"}
        assert await ids(client, "review=unreviewed") == ALL - {"charlie"}
        inbox = (await client.get("/studio/inbox")).text
        assert "thanks again" in inbox and "flagged" in inbox  # flagged despite 0.93
        await client.delete("/studio/conversations/bravo/tags/gibberish", headers=headers)
        assert await ids(client, "tag=gibberish") == set()
        refused = await client.post("/studio/conversations/bravo/tags", data={"tag": "x"})
        assert refused.status_code == 403  # no CSRF token


async def test_correcting_an_intent_writes_the_example_keeping_comments(
    server: ParleyServer, project: Path, access: Access
) -> None:
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    session = await login(server, "annotator")
    async with session as client:
        headers = {"X-CSRF-Token": session.csrf}
        inbox = (await client.get("/studio/inbox")).text
        assert "see ya around" in inbox and "zzz qqq blorp" in inbox
        saved = await client.post(
            "/studio/inbox/charlie/1", data={"decision": "correct", "intent": "goodbye"},
            headers=headers,
        )  # fmt: skip
        assert "Saved as goodbye in data/nlu.yml" in saved.text
        discarded = await client.post(
            "/studio/inbox/bravo/1", data={"decision": "discard"}, headers=headers
        )
        assert discarded.status_code == 200
        assert "Nothing to review" in (await client.get("/studio/inbox")).text
        transcript = (await client.get("/studio/conversations/charlie")).text
        assert "corrected goodbye" in transcript
    after = nlu.read_text()
    assert NLU_COMMENT in after
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["      - see ya around"]
    goodbye = after.index("- intent: goodbye")
    assert goodbye < after.index("- see ya around") < after.index("- intent: thank")
    rows = await access.audit.query(AuditFilter(action="nlu_annotate"))
    assert [(r.actor, r.target) for r in rows] == [("annotator", "charlie")]


async def test_duplicates_and_contradictions_are_shown_before_saving(
    server: ParleyServer, store: SQLTrackerStore, project: Path
) -> None:
    await store.append("echo", [user("Hello", "greet", 0.2, T0 + 5 * 86400)])
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    session = await login(server, "annotator")
    async with session as client:
        headers = {"X-CSRF-Token": session.csrf}
        inbox = (await client.get("/studio/inbox")).text
        assert "duplicate: already an example of greet in data/nlu.yml" in inbox
        asked = await client.post(
            "/studio/inbox/echo/1", data={"decision": "correct", "intent": "goodbye"},
            headers=headers,
        )  # fmt: skip
        assert "contradiction: &#39;hello&#39; is an example of greet" in asked.text
        assert "Save anyway" in asked.text
        assert nlu.read_text() == before  # nothing written yet
        saved = await client.post(
            "/studio/inbox/echo/1",
            data={"decision": "correct", "intent": "goodbye", "confirm": "true"},
            headers=headers,
        )
        assert "Saved as goodbye" in saved.text
    assert "      - Hello\n" in nlu.read_text()


async def test_delete_and_export_need_their_permissions_and_are_audited(
    server: ParleyServer, access: Access, store: SQLTrackerStore
) -> None:
    analyst = await login(server, "analyst")
    async with analyst as client:
        refused = await client.delete(
            "/studio/conversations/alpha", headers={"X-CSRF-Token": analyst.csrf}
        )
        assert refused.status_code == 403
    admin = await login(server, "admin")
    async with admin as client:
        exported = await client.get("/studio/conversations/alpha/export")
        assert exported.status_code == 200
        assert [e["event"] for e in exported.json()["events"]][:2] == ["user", "action"]
        deleted = await client.delete(
            "/studio/conversations/alpha", headers={"X-CSRF-Token": admin.csrf}
        )
        assert deleted.status_code == 200
        assert await ids(client, "") == ALL - {"alpha"}
        assert (await client.get("/studio/conversations/alpha")).status_code == 404
    assert await store.load("alpha") is None
    actions = [r.action for r in await access.audit.query(AuditFilter(target="alpha"))]
    assert sorted(actions) == ["conversation_delete", "conversation_export"]


async def test_pages_without_a_session_show_the_login_form(server: ParleyServer) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server), base_url="http://testserver"
    ) as client:
        response = await client.get("/studio/conversations?intent=greet")
        assert response.status_code == 401
        assert 'id="login"' in response.text
        assert 'data-next="/studio/conversations?intent=greet"' in response.text
        assert (await client.get("/studio/static/htmx.min.js")).status_code == 200
        assert (await client.get("/studio/static/..%2Fservice.py")).status_code == 404


async def test_a_tester_sees_no_review_or_annotation_pages(server: ParleyServer) -> None:
    async with await login(server, "tester") as client:
        home = await client.get("/studio")
        assert home.status_code == 200
        assert "/studio/inbox" not in home.text and "/studio/conversations" not in home.text
        inbox = await client.get("/studio/inbox")
        assert inbox.status_code == 403 and 'id="refused"' in inbox.text


async def test_an_encrypted_store_is_filtered_without_keeping_user_text(
    tmp_path: Path, access: Access
) -> None:
    cipher = EventCipher(EncryptionKey.generate())
    store = await SQLTrackerStore.open(SQLSettings(db="sealed.db"), tmp_path, cipher)
    try:
        await seed(store)
        await store.append("foxtrot", [action("action_default_fallback", T0)])
        await index.catch_up(store.engine, store.cipher)
        from sqlalchemy import select

        from parley.stores.sql_schema import events, studio_turns

        async with store.engine.connect() as connection:
            texts = (await connection.execute(select(studio_turns.c.text))).scalars().all()
            bodies = (await connection.execute(select(events.c.body))).scalars().all()
        assert set(texts) == {None}
        assert not any("printer" in body for body in bodies)
        from parley.studio.queries import ConversationFilter, list_conversations

        page = await list_conversations(store.engine, ConversationFilter(intent="report_problem"))
        assert [row.sender_id for row in page.rows] == ["alpha"]
        page = await list_conversations(store.engine, ConversationFilter(fallback=True))
        assert {row.sender_id for row in page.rows} == {"bravo", "foxtrot"}
    finally:
        await store.close()


async def test_a_retrieval_intent_is_reviewed_and_saved_by_its_full_name(
    server: ParleyServer, store: SQLTrackerStore, project: Path
) -> None:
    event = user("when do you open", "faq", 0.3, T0 + 6 * 86400)
    event["parse_data"]["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/ask_hours", "confidence": 0.4}}
    }
    await store.append("golf", [event])
    session = await login(server, "annotator")
    async with session as client:
        inbox = (await client.get("/studio/inbox")).text
        assert 'data-intent="faq/ask_hours"' in inbox
        saved = await client.post(
            "/studio/inbox/golf/1",
            data={"decision": "accept", "suggested": "faq/ask_hours"},
            headers={"X-CSRF-Token": session.csrf},
        )
        assert "Saved as faq/ask_hours" in saved.text
    text = (project / "data" / "nlu.yml").read_text()
    block = text[text.index("- intent: faq/ask_hours") :]
    assert block.index("- when do you open") < block.index("- intent:", 1)


async def test_marked_entities_are_written_into_the_example(
    server: ParleyServer, project: Path
) -> None:
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    session = await login(server, "annotator")
    async with session as client:
        headers = {"X-CSRF-Token": session.csrf}
        inbox = (await client.get("/studio/inbox")).text
        assert '<select class="entity-name" aria-label="entity"><option>username</option>' in inbox
        wrong = await client.post(
            "/studio/inbox/alpha/4",
            data={"decision": "correct", "intent": "inform",
                  "entities": '[{"entity": "username", "start": 3, "end": 99}]'},
            headers=headers,
        )  # fmt: skip
        assert wrong.status_code == 400 and "not an entity of the message" in wrong.text
        assert nlu.read_text() == before
        saved = await client.post(
            "/studio/inbox/alpha/4",
            data={"decision": "correct", "intent": "inform",
                  "entities": '[{"entity": "username", "start": 3, "end": 10}]'},
            headers=headers,
        )  # fmt: skip
        assert "Saved as inform" in saved.text
    added = [line for line in nlu.read_text().splitlines() if line not in before.splitlines()]
    assert added == ["      - my [printer](username) is on fire"]
