"""The studio behind PII redaction of the tracker store (`pii.apply_to: [tracker_store]`): it
is served (`open_studio` reads the SQL store under the redacting wrapper), and reviewers see
the conversations as stored, redacted: the planted values appear nowhere, in pages or in the
index, while labels and names still filter."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from parley.access.service import Access
from parley.agent import Agent
from parley.observability.pii import PIIConfig, Redactor
from parley.observability.redacting import redact_stores
from parley.server import AgentHolder, ServerConfig, create_app
from parley.server.bootstrap import open_studio
from parley.stores.memory import InMemoryLockStore
from parley.stores.persistence import Stores
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_schema import studio_facts, studio_turns
from parley.studio import index
from tests.access.conftest import login
from tests.studio.conftest import T0, action, slot, user
from tests.studio.test_pages import ids

EMAIL = "ada.lovelace@example.org"
PERSON = "Ada Lovelace"
PII = {
    "apply_to": ["tracker_store"],
    "rules": [
        {"pattern": "email"},
        {"entity": "person", "substitution": "text", "text": "<person>"},
    ],
}


async def test_the_studio_shows_the_redacted_conversation(
    tmp_path: Path,
    store: SQLTrackerStore,
    project: Path,
    access: Access,
    helpdesk: Agent,
) -> None:
    redactor = Redactor(PIIConfig.from_endpoints({"pii": PII}))
    stores = redact_stores(Stores(store, InMemoryLockStore()), redactor)
    assert stores.tracker_store is not store  # the engine writes through the redactor
    studio = open_studio(access, stores, project)
    assert studio is not None and studio.store is store
    text = f"I am {PERSON}, write to {EMAIL}"
    await stores.tracker_store.append("papa", [
        user(text, "inform", 0.9, T0 + 7 * 86400,
             entities=[{"entity": "person", "value": PERSON, "start": 5, "end": 17}]),
        slot("email", EMAIL, T0 + 7 * 86400 + 1),
        action("utter_thanks", T0 + 7 * 86400 + 2),
    ])  # fmt: skip
    server = create_app(
        AgentHolder(helpdesk, None), ServerConfig(enable_api=True), access=access, studio=studio
    )
    async with await login(server, "annotator") as client:
        page = (await client.get("/studio/conversations/papa")).text
        assert "<person>" in page.replace("&lt;", "<").replace("&gt;", ">")
        assert EMAIL not in page and PERSON not in page and "lovelace" not in page.lower()
        assert await ids(client, "slot=email") == {"papa"}
        assert await ids(client, "entity=person&intent=inform") == {"papa"}
        assert await ids(client, "text=lovelace") == set()
        assert await ids(client, f"slot=email&slot_value={EMAIL}") == set()
        assert await ids(client, "entity=person&entity_value=<person>") == {"papa"}
    await index.catch_up(store.engine, store.cipher)
    async with store.engine.connect() as connection:
        texts = (await connection.execute(select(studio_turns.c.text))).scalars().all()
        values = (await connection.execute(select(studio_facts.c.value))).scalars().all()
    stored = " ".join(str(v) for v in (*texts, *values)).lower()
    assert "lovelace" not in stored and "example.org" not in stored
