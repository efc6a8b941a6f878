"""Unhandled messages grouped by meaning, promoted to a new intent in one step."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML

from parley.access.audit import AuditFilter
from parley.access.service import Access
from parley.nlu.embeddings import embeddings_available
from parley.server import ParleyServer
from parley.stores.crypto import EncryptionKey, EventCipher
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio import index
from parley.studio.clusters import (
    DEFAULT_DISTANCE,
    MessageVectors,
    group_by_meaning,
    project_vectors,
)
from parley.studio.unhandled import unhandled_messages
from tests.access.conftest import login
from tests.studio.conftest import NLU_COMMENT, T0, action, user

PAYPAL = [
    "can I pay with paypal",
    "do you accept paypal?",
    "paypal payment possible?",
    "I want to pay using PayPal",
    "is paypal supported for payment",
    "Can I pay via paypal",
]
STORES = [
    "where is the nearest store",
    "find a shop near me",
    "which store is closest to my address",
    "is there a branch near me",
    "store locations nearby",
]
NOISE = ["my dog ate my homework", "what's the weather on mars", "sing me a song"]
DOMAIN_COMMENT = "# Intents the help desk knows.\n"
LATER = T0 + 10 * 86400  # after conftest.seed's conversations


def _labelled(grouping_clusters: list[list[int]], texts: list[str]) -> list[set[str]]:
    return [{texts[i] for i in rows} for rows in grouping_clusters]


@pytest.mark.parametrize(
    "kind",
    [
        "static",
        pytest.param(
            "embeddings",
            marks=pytest.mark.skipif(not embeddings_available(), reason="no embeddings extra"),
        ),
    ],
)
def test_paraphrases_cluster_together_and_different_needs_apart(kind: str) -> None:
    texts = PAYPAL + STORES + NOISE + ["Do you accept PayPal?"]  # a repeat counts twice
    vectors = MessageVectors().vectors(texts, kind)
    grouping = group_by_meaning(texts, vectors, DEFAULT_DISTANCE[kind], min_size=3)
    clusters = _labelled(grouping.clusters, texts)
    assert clusters == [set(PAYPAL) | {"Do you accept PayPal?"}, set(STORES)]
    assert {texts[i] for i in grouping.other} == set(NOISE)
    assert len(grouping.clusters[0]) == len(PAYPAL) + 1  # the repeat counts in the size


def test_the_number_of_clusters_follows_the_data() -> None:
    texts = PAYPAL + NOISE
    vectors = MessageVectors().vectors(texts, "static")
    grouping = group_by_meaning(texts, vectors, DEFAULT_DISTANCE["static"], min_size=3)
    assert _labelled(grouping.clusters, texts) == [set(PAYPAL)]
    nothing = group_by_meaning([], MessageVectors().vectors([], "static"), 0.5)
    assert nothing.clusters == [] and nothing.other == []


async def seed_unhandled(store: SQLTrackerStore) -> None:
    """Payment questions parsed as nlu_fallback, store questions answered by a fallback action
    or handed off, noise, and a confident message that needs nothing."""
    at = LATER
    for n, text in enumerate(PAYPAL):
        await store.append(f"pay{n}", [
            user(text, "nlu_fallback", 0.2, at),
            action("action_default_fallback", at + 1),
        ])  # fmt: skip
        at += 60
    for n, text in enumerate(STORES):
        last = "action_handoff_to_human" if n % 2 else "action_two_stage_fallback"
        await store.append(f"shop{n}", [
            user("hello", "greet", 0.95, at),
            action("utter_greet", at + 1),
            user(text, "faq", 0.35, at + 2),
            action(last, at + 3),
        ])  # fmt: skip
        at += 60
    for n, text in enumerate(NOISE):
        await store.append(f"noise{n}", [user(text, "nlu_fallback", 0.1, at)])
        at += 60
    await store.append("payload", [user("/greet", "nlu_fallback", 0.1, at)])


def _clusters(html: str) -> list[set[str]]:
    found = []
    for section in re.findall(
        r'<section class="cluster" id="cluster-(\d+)">(.*?)</section>', html, re.S
    ):
        texts = set(re.findall(r'<span class="text">([^<]*)</span>', section[1]))
        found.append((int(section[0]), texts))
    return [texts for number, texts in sorted(found) if number > 0] + [
        texts for number, texts in found if number == 0
    ]


def _unescape(texts: set[str]) -> set[str]:
    return {t.replace("&#39;", "'") for t in texts}


async def test_the_page_clusters_fallbacks_and_handoffs(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await seed_unhandled(store)
    async with await login(server, "analyst") as client:  # no nlu:read
        assert (await client.get("/studio/clusters")).status_code == 403
        assert "/studio/clusters" not in (await client.get("/studio")).text
    async with await login(server, "annotator") as client:
        page = await client.get("/studio/clusters")
        assert page.status_code == 200, page.text
        clusters = [_unescape(c) for c in _clusters(page.text)]
        # conftest.seed's bravo (default fallback) and alpha (handed off) are noise here
        noise = set(NOISE) | {"zzz qqq blorp", "my printer is on fire"}
        assert clusters == [set(PAYPAL), set(STORES), noise]
        assert "16 user messages" in page.text and "(3 handed off)" in page.text
        assert "/greet" not in page.text  # button payloads are not what users wrote
        assert len(re.findall(r'name="messages" value="[^"]+" checked', page.text)) == 11
        assert "/studio/clusters" in (await client.get("/studio")).text
        # the period and the limit narrow the work
        since = await client.get("/studio/clusters?since=2026-06-07")
        assert "14 user messages" in since.text
        until = await client.get("/studio/clusters?until=2026-06-06")
        assert "2 user messages" in until.text and "my printer is on fire" in until.text
        newest = await client.get("/studio/clusters?limit=4")  # the noise and the payload
        assert "3 user messages" in newest.text and "sing me a song" in newest.text
        wrong = await client.get("/studio/clusters?vectors=word2vec")
        assert wrong.status_code == 400 and "choose one of static" in wrong.text


async def test_promoting_a_cluster_writes_the_intent_keeping_comments(
    server: ParleyServer, store: SQLTrackerStore, project: Path, access: Access
) -> None:
    await seed_unhandled(store)
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace("intents:\n", DOMAIN_COMMENT + "intents:\n", 1))
    nlu = project / "data" / "nlu.yml"
    nlu_before, domain_before = nlu.read_text(), domain.read_text()
    session = await login(server, "annotator")
    headers = {"X-CSRF-Token": session.csrf}
    async with session as client:
        page = (await client.get("/studio/clusters")).text
        section = re.search(r'id="cluster-1">.*?</section>', page, re.S)
        assert section is not None
        values = re.findall(r'name="messages" value="([^"]+)" checked', section.group(0))
        assert len(values) == len(PAYPAL)
        chosen = [v for v in values if not v.endswith(":pay5")]  # deselect one message
        for name, reason in (
            ("greet", "already exists"),
            ("ask payment", "not a valid intent name"),
            ("utter_pay", "for responses and actions"),
        ):
            refused = await client.post(
                "/studio/clusters/promote",
                data={"intent": name, "messages": chosen, "to": "files"},
                headers=headers,
            )
            assert refused.status_code == 400 and reason in refused.text
        assert nlu.read_text() == nlu_before and domain.read_text() == domain_before
        promoted = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": chosen, "to": "files"},
            headers=headers,
        )
        assert promoted.status_code == 200, promoted.text
        assert "Created the intent ask_paypal: 5 examples in data/nlu.yml" in promoted.text
        again = await client.post(
            "/studio/clusters/promote",
            data={"intent": "ask_paypal", "messages": chosen}, headers=headers,
        )  # fmt: skip
        assert again.status_code == 400 and "already exists" in again.text
        after = [_unescape(c) for c in _clusters((await client.get("/studio/clusters")).text)]
        assert "Can I pay via paypal" in after[-1]  # the deselected message stays (in other)
        assert not any(set(PAYPAL[:5]) & texts for texts in after)
    text = nlu.read_text()
    assert NLU_COMMENT in text
    assert [line for line in nlu_before.splitlines() if line not in text.splitlines()] == []
    block = text[text.index("- intent: ask_paypal") :]
    lines = block.splitlines()
    assert lines[1] == "    examples: |"
    assert sorted(lines[2:]) == sorted(f"      - {t}" for t in PAYPAL[:5])
    document = YAML(typ="safe").load(text)
    assert document["nlu"][-1]["intent"] == "ask_paypal"
    domain_text = domain.read_text()
    assert DOMAIN_COMMENT in domain_text
    assert YAML(typ="safe").load(domain_text)["intents"][-1] == "ask_paypal"
    added = [line for line in domain_text.splitlines() if line not in domain_before.splitlines()]
    assert added == ["  - ask_paypal"]
    rows = await access.audit.query(AuditFilter(action="nlu_promote_cluster"))
    assert [(r.actor, r.target, r.details["messages"]) for r in rows] == [
        ("annotator", "ask_paypal", 5)
    ]


async def check_seeded_clusters(store: SQLTrackerStore) -> None:
    """Seed `store` with unhandled messages; they are found, decoded and clustered by need."""
    await seed_unhandled(store)
    await index.catch_up(store.engine, store.cipher)
    found = await unhandled_messages(store.engine, store.cipher)
    texts = [m.text for m in found]
    assert set(texts) == set(PAYPAL) | set(STORES) | set(NOISE)
    assert {m.key.sender_id for m in found if m.reason == "handoff"} == {"shop1", "shop3"}
    vectors = MessageVectors().vectors(texts, "static")
    grouping = group_by_meaning(texts, vectors, DEFAULT_DISTANCE["static"])
    assert _labelled(grouping.clusters, texts) == [set(PAYPAL), set(STORES)]


async def test_an_encrypted_store_is_clustered_from_decoded_texts(tmp_path: Path) -> None:
    cipher = EventCipher(EncryptionKey.generate())
    store = await SQLTrackerStore.open(SQLSettings(db="sealed.db"), tmp_path, cipher)
    try:
        await check_seeded_clusters(store)
    finally:
        await store.close()


@pytest.mark.skipif(not embeddings_available(), reason="no embeddings extra")
async def test_the_page_clusters_with_minilm_when_chosen(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await seed_unhandled(store)
    async with await login(server, "annotator") as client:
        page = await client.get("/studio/clusters?vectors=embeddings")
        assert page.status_code == 200, page.text
        assert "<option selected>embeddings</option>" in page.text
        assert 'name="distance" step="0.05" min="0.05" max="1.5" value="0.5"' in page.text
        assert [_unescape(c) for c in _clusters(page.text)][:2] == [set(PAYPAL), set(STORES)]


async def test_promotion_refuses_messages_that_are_not_there(
    server: ParleyServer, store: SQLTrackerStore, project: Path
) -> None:
    await seed_unhandled(store)
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    session = await login(server, "annotator")
    async with session as client:
        for messages, reason in (
            ([], "Choose at least one message"),
            (["pay0"], "does not name a message"),
            (["1:pay0", "9:pay0"], "No user message 9:pay0 in the store"),
            (["2:pay0"], "No user message 2:pay0"),  # an action, not a user message
        ):
            refused = await client.post(
                "/studio/clusters/promote",
                data={"intent": "ask_paypal", "messages": messages},
                headers={"X-CSRF-Token": session.csrf},
            )
            assert refused.status_code == 400 and reason in refused.text, refused.text
    assert nlu.read_text() == before


def test_the_default_vectors_are_those_of_the_projects_nlu(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: WhitespaceTokenizer\n  - name: DIETClassifier\n")
    assert project_vectors(tmp_path) == "static"
    config.write_text(
        "pipeline:\n  - name: WhitespaceTokenizer\n  - name: LanguageModelFeaturizer\n"
    )
    assert project_vectors(tmp_path) == ("embeddings" if embeddings_available() else "static")
    config.write_text("pipeline: [")
    assert project_vectors(tmp_path) == "static"


async def test_decided_messages_do_not_crowd_out_older_ones(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await seed_unhandled(store)
    session = await login(server, "annotator")
    async with session as client:
        for n in range(len(NOISE)):  # the newest messages, discarded in the inbox
            discarded = await client.post(
                f"/studio/inbox/noise{n}/1",
                data={"decision": "discard"},
                headers={"X-CSRF-Token": session.csrf},
            )
            assert discarded.status_code == 200
        page = (await client.get("/studio/clusters?limit=4")).text  # the payload and 3 more
    assert "3 user messages" in page
    assert not any(text in page for text in NOISE)
    assert all(text in page for text in STORES[2:])


@pytest.mark.skipif(not embeddings_available(), reason="no embeddings extra")
def test_kept_minilm_vectors_are_those_of_a_fresh_encoding() -> None:
    vectorizer = MessageVectors()
    first = vectorizer.vectors(PAYPAL[:3], "embeddings")
    mixed = [PAYPAL[2], STORES[0], PAYPAL[0], PAYPAL[2]]  # two kept, one new, a repeat
    again = vectorizer.vectors(mixed, "embeddings")
    fresh = MessageVectors().vectors(mixed, "embeddings")
    assert np.allclose(again, fresh)
    assert np.allclose(again[0], first[2]) and np.allclose(again[3], first[2])
