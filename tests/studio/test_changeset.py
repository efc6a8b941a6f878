"""The change set: annotations and promoted clusters kept for download instead of written into
data/, downloaded as a Rasa NLU file, applied to the project, or cleared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from parley.access.audit import AuditFilter
from parley.access.permissions import BUILTIN_ROLES
from parley.access.service import Access
from parley.server import ParleyServer
from parley.stores.sql import SQLTrackerStore
from tests.access.conftest import login
from tests.studio.conftest import NLU_COMMENT
from tests.studio.test_clusters import PAYPAL, seed_unhandled

PRINTER = '[{"entity": "username", "start": 3, "end": 10}]'


def _snapshot(project: Path) -> dict[str, str]:
    return {str(p): p.read_text() for p in sorted(project.rglob("*.yml"))}


async def test_kept_annotations_and_clusters_download_as_rasa_nlu_yaml(
    server: ParleyServer, store: SQLTrackerStore, project: Path, access: Access
) -> None:
    await seed_unhandled(store)
    before = _snapshot(project)
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        inbox = (await client.get("/studio/inbox")).text
        assert '<select name="to" id="save-to">' in inbox
        kept = await client.post(
            "/studio/inbox/alpha/4",
            data={"decision": "correct", "intent": "inform", "entities": PRINTER,
                  "to": "changeset"},
            headers=headers,
        )  # fmt: skip
        assert "Kept as inform in the change set" in kept.text
        assert "my printer is on fire" not in (await client.get("/studio/inbox")).text
        fallback = await client.post(
            "/studio/inbox/pay0/1",
            data={"decision": "accept", "suggested": "nlu_fallback", "to": "changeset"},
            headers=headers,
        )
        assert fallback.status_code == 400  # nlu_fallback is no intent to train
        messages = [f"1:pay{n}" for n in range(3)]
        promoted = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": messages, "to": "changeset"},
            headers=headers,
        )
        assert "Kept 3 messages as the new intent ask_paypal" in promoted.text
        taken = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay4"], "to": "changeset"},
            headers=headers,
        )
        assert taken.status_code == 400 and "already in the change set" in taken.text
        clusters = (await client.get("/studio/clusters")).text
        assert PAYPAL[0] not in clusters and PAYPAL[3] in clusters  # kept ones are decided
        page = (await client.get("/studio/changeset")).text
        assert "my [printer](username) is on fire" in page and "(new)" in page
        downloaded = await client.get("/studio/changeset/download")
        assert downloaded.status_code == 200
        assert 'filename="nlu_changeset.yml"' in downloaded.headers["content-disposition"]
    assert _snapshot(project) == before  # nothing written into the project
    text = downloaded.text
    assert "# New intents, to add to the domain's intents: ask_paypal" in text
    document = YAML(typ="safe").load(text)
    assert document["version"] == "3.1"
    assert [item["intent"] for item in document["nlu"]] == ["inform", "ask_paypal"]
    assert document["nlu"][0]["examples"] == "- my [printer](username) is on fire\n"
    assert document["nlu"][1]["examples"] == "".join(f"- {t}\n" for t in PAYPAL[:3])
    actions = sorted(r.action for r in await access.audit.query(AuditFilter(actor="annotator")))
    assert actions.count("nlu_changeset_add") == 2 and "nlu_changeset_download" in actions


async def test_applying_the_change_set_writes_data_and_domain(
    server: ParleyServer, store: SQLTrackerStore, project: Path, access: Access
) -> None:
    await seed_unhandled(store)
    nlu, domain = project / "data" / "nlu.yml", project / "domain.yml"
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        await client.post(
            "/studio/inbox/alpha/4",
            data={"decision": "correct", "intent": "inform", "entities": PRINTER,
                  "to": "changeset"},
            headers=headers,
        )  # fmt: skip
        await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay0", "1:pay1"], "to": "changeset"},
            headers=headers,
        )
        applied = await client.post("/studio/changeset/apply", headers=headers)
        assert applied.status_code == 200, applied.text
        assert "1 to inform, 2 to ask_paypal" in applied.text
        assert "new intents ask_paypal added to the domain" in applied.text
        assert "The change set is empty" in (await client.get("/studio/changeset")).text
        transcript = (await client.get("/studio/conversations/pay0")).text
        assert "promoted ask_paypal" in transcript
    text = nlu.read_text()
    assert NLU_COMMENT in text
    assert "      - my [printer](username) is on fire\n" in text
    examples = YAML(typ="safe").load(text)["nlu"][-1]
    assert examples == {"intent": "ask_paypal", "examples": f"- {PAYPAL[0]}\n- {PAYPAL[1]}\n"}
    assert "ask_paypal" in YAML(typ="safe").load(domain.read_text())["intents"]
    rows = await access.audit.query(AuditFilter(action="nlu_changeset_apply"))
    assert rows[0].details["created"] == ["ask_paypal"]


async def test_clearing_the_change_set_keeps_the_project_and_the_decisions(
    server: ParleyServer, store: SQLTrackerStore, project: Path, access: Access
) -> None:
    await seed_unhandled(store)
    before = _snapshot(project)
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay0"], "to": "changeset"},
            headers=headers,
        )
        cleared = await client.delete("/studio/changeset", headers=headers)
        assert "Cleared 1 entries" in cleared.text
        page = (await client.get("/studio/changeset")).text
        assert 'id="changeset-empty"' in page
        assert PAYPAL[0] not in (await client.get("/studio/clusters")).text
        nothing = await client.get("/studio/changeset/download")
        assert YAML(typ="safe").load(nothing.text) == {"version": "3.1", "nlu": []}
        # the name is free again once the change set no longer creates it
        again = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay1"], "to": "changeset"},
            headers=headers,
        )
        assert again.status_code == 200
    assert _snapshot(project) == before
    rows = await access.audit.query(AuditFilter(action="nlu_changeset_clear"))
    assert [r.details["entries"] for r in rows] == [1]


async def test_a_deleted_conversation_leaves_the_change_set(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await seed_unhandled(store)
    annotator = await login(server, "annotator")
    async with annotator as client:
        await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay0", "1:pay1"], "to": "changeset"},
            headers={"X-CSRF-Token": annotator.csrf},
        )
    admin = await login(server, "admin")
    async with admin as client:
        deleted = await client.delete(
            "/studio/conversations/pay0", headers={"X-CSRF-Token": admin.csrf}
        )
        assert deleted.status_code == 200
        page = (await client.get("/studio/changeset")).text
    rows = re.findall(r"<tr><td>ask_paypal", page)
    assert len(rows) == 1 and PAYPAL[0] not in page and PAYPAL[1] in page


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
async def test_each_role_reads_and_changes_only_what_it_may(
    server: ParleyServer, store: SQLTrackerStore, role: str
) -> None:
    await seed_unhandled(store)
    may = BUILTIN_ROLES[role]
    reads = 200 if "nlu:read" in may else 403
    annotates = 200 if "nlu:annotate" in may else 403
    session = await login(server, role)
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        page = await client.get("/studio/clusters")
        assert page.status_code == reads
        assert ('name="messages"' in page.text) == (annotates == 200)
        home = (await client.get("/studio")).text
        assert ('id="nav-clusters"' in home) == (reads == 200)
        assert ('id="nav-changeset"' in home) == (annotates == 200)
        promoted = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay0"], "to": "changeset"},
            headers=headers,
        )
        assert promoted.status_code == annotates
        for method, url in (
            ("GET", "/studio/changeset"),
            ("GET", "/studio/changeset/download"),
            ("DELETE", "/studio/changeset/pay0/1"),
            ("DELETE", "/studio/changeset"),
        ):
            response = await client.request(method, url, headers=headers)
            assert response.status_code == annotates, (method, url)


async def test_a_removed_entry_goes_back_to_the_clusters(
    server: ParleyServer, store: SQLTrackerStore, access: Access
) -> None:
    await seed_unhandled(store)
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": ["1:pay0", "1:pay1"], "to": "changeset"},
            headers=headers,
        )
        assert PAYPAL[0] not in (await client.get("/studio/clusters")).text
        removed = await client.delete("/studio/changeset/pay0/1", headers=headers)
        assert removed.status_code == 200
        assert PAYPAL[0] in (await client.get("/studio/clusters")).text
        page = (await client.get("/studio/changeset")).text
        assert PAYPAL[0] not in page and PAYPAL[1] in page
        again = await client.delete("/studio/changeset/pay0/1", headers=headers)
        assert again.status_code == 404
    rows = await access.audit.query(AuditFilter(action="nlu_changeset_remove"))
    assert [(r.target, r.details["sequence"]) for r in rows] == [("pay0", 1)]
