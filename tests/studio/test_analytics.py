"""The analytics page: counts per day, channel and model version from the studio's index, checked
against figures worked out by hand for a seeded set of conversations."""

from __future__ import annotations

import re

from parley.server import ParleyServer
from parley.stores.sql import SQLTrackerStore
from parley.studio import index
from parley.studio.analytics import report
from tests.access.conftest import login
from tests.studio.conftest import DAY, T0, action, bot, user

# Columns after the key: conversations, contained, handoff rate, fallback rate, average user
# messages, users, abandonment rate.


def rows(html: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for key, body in re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", body)
        found[key] = tuple(c for c in cells if c)[1:]
    return found


async def more(store: SQLTrackerStore) -> None:
    """On top of the conftest's seed (alpha 05-28 rest/m1 handed off; bravo 05-29 socketio/m2
    ends on a fallback; charlie 05-30 rest/m2; delta 05-31 rest/m1, three messages):
    echo 05-31 leaves inside a form; delta writes again on 06-01; foxtrot 06-01 gets a fallback,
    rephrases, completes the form."""
    at = T0 + 3 * DAY + 100
    await store.append("echo", [
        user("book a table", "book", 0.9, at),
        action("restaurant_form", at + 1),
        {"event": "active_loop", "timestamp": at + 1, "name": "restaurant_form"},
        bot("For how many?", at + 2),
    ])  # fmt: skip
    await store.append("delta", [user("thanks once more", "thank", 0.9, T0 + 4 * DAY)])
    at = T0 + 4 * DAY + 200
    await store.append("foxtrot", [
        user("asdf", "nlu_fallback", 0.2, at),
        action("action_default_fallback", at + 1),
        user("book a table", "book", 0.95, at + 10),
        action("restaurant_form", at + 11),
        {"event": "active_loop", "timestamp": at + 11, "name": "restaurant_form"},
        {"event": "active_loop", "timestamp": at + 30, "name": None},
        action("utter_booked", at + 31),
    ])  # fmt: skip


async def test_figures_per_day_channel_and_model_match_the_hand_count(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await more(store)
    async with await login(server, "analyst") as client:
        by_day = (await client.get("/studio/analytics?group=day")).text
        by_channel = rows((await client.get("/studio/analytics?group=channel")).text)
        by_model = rows((await client.get("/studio/analytics?group=model")).text)
        since = (await client.get("/studio/analytics?group=day&since=2026-05-31")).text
    # conversations by the day they started; users by the days they wrote (delta twice)
    assert rows(by_day) == {
        "2026-05-28": ("1", "0%", "100%", "0%", "2.0", "1", "0%"),
        "2026-05-29": ("1", "100%", "0%", "100%", "1.0", "1", "100%"),
        "2026-05-30": ("1", "100%", "0%", "0%", "1.0", "1", "0%"),
        "2026-05-31": ("2", "100%", "0%", "0%", "2.5", "2", "50%"),
        "2026-06-01": ("1", "100%", "0%", "100%", "2.0", "2", "0%"),
    }
    assert by_channel == {
        "rest": ("5", "80%", "20%", "20%", "2.0", "5", "20%"),
        "socketio": ("1", "100%", "0%", "100%", "1.0", "1", "100%"),
    }
    assert by_model == {
        "m1": ("4", "75%", "25%", "25%", "2.2", "4", "25%"),  # 9 messages / 4
        "m2": ("2", "100%", "0%", "50%", "1.0", "2", "50%"),
    }
    assert list(rows(since)) == ["2026-05-31", "2026-06-01"]
    top = re.findall(r"<li>([^<]+)</li>", by_day.split('id="top-intents"')[1].split("</ol>")[0])
    assert top[:3] == ["thank (4)", "book (2)", "greet (2)"]
    top = re.findall(r"<li>([^<]+)</li>", since.split('id="top-intents"')[1].split("</ol>")[0])
    assert top == ["thank (4)", "book (2)", "nlu_fallback (1)"]  # the period's messages only


async def test_the_page_plots_volumes_and_rates(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    await more(store)
    async with await login(server, "analyst") as client:
        by_day = (await client.get("/studio/analytics?group=day")).text
        by_channel = (await client.get("/studio/analytics?group=channel")).text
    volume = by_day.split('id="plot-volume"')[1].split("</svg>")[0]
    assert volume.count("<polyline") == 2  # conversations and users over the days
    assert "<title>users, 2026-06-01: 2</title>" in volume
    rates = by_day.split('id="plot-rates"')[1].split("</svg>")[0]
    assert "<title>abandonment, 2026-05-31: 50%</title>" in rates
    bars = by_channel.split('id="plot-volume"')[1].split("</svg>")[0]
    assert bars.count('<rect class="series"') == 4  # two series, two channels
    assert "<script" not in by_day.split("<main>")[1]  # drawn on the server


async def test_an_unresolved_conversation_counts_as_abandoned_once_the_user_is_gone(
    store: SQLTrackerStore,
) -> None:
    await index.catch_up(store.engine, store.cipher)
    bravo_ends = T0 + DAY + 1
    soon = await report(store.engine, "channel", None, None, now=bravo_ends + 60)
    later = await report(store.engine, "channel", None, None, now=bravo_ends + 31 * 60)
    assert [(b.key, b.abandoned) for b in soon.buckets] == [("rest", 0), ("socketio", 0)]
    assert [(b.key, b.abandoned) for b in later.buckets] == [("rest", 0), ("socketio", 1)]


async def test_top_fallback_messages_are_counted(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    for n in range(3):
        await store.append(f"lost{n}", [user("Order a pizza", "nlu_fallback", 0.1, T0 + 5 * DAY)])
    async with await login(server, "analyst") as client:
        html = (await client.get("/studio/analytics?group=day")).text
        refused = await client.get("/studio/analytics?since=yesterday")
    assert "<li>order a pizza (3)</li>" in html
    # left on an nlu_fallback, long ago: abandoned
    assert rows(html)["2026-06-02"] == ("3", "100%", "0%", "100%", "1.0", "3", "100%")
    assert refused.status_code == 400


async def test_analytics_needs_its_permission(server: ParleyServer) -> None:
    async with await login(server, "annotator") as client:
        assert (await client.get("/studio/analytics")).status_code == 403
