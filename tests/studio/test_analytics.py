"""The analytics page: counts per day, channel and model version from the studio's index."""

from __future__ import annotations

import re

from parley.server import ParleyServer
from parley.stores.sql import SQLTrackerStore
from tests.access.conftest import login
from tests.studio.conftest import DAY, T0, user


def rows(html: str) -> dict[str, tuple[str, ...]]:
    """key -> (conversations, contained, handoff rate, fallback rate, average user messages)."""
    found = {}
    for key, body in re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", body)
        found[key] = tuple(c for c in cells if c)[1:]
    return found


async def test_counts_per_channel_model_and_day(server: ParleyServer) -> None:
    async with await login(server, "analyst") as client:
        by_channel = rows((await client.get("/studio/analytics?group=channel")).text)
        by_model = rows((await client.get("/studio/analytics?group=model")).text)
        by_day = (await client.get("/studio/analytics?group=day&since=2026-05-29")).text
    assert by_channel == {
        "rest": ("3", "67%", "33%", "0%", "2.0"),
        "socketio": ("1", "100%", "0%", "100%", "1.0"),
    }
    assert {k: v[0] for k, v in by_model.items()} == {"m1": "2", "m2": "2"}
    assert list(rows(by_day)) == ["2026-05-29", "2026-05-30", "2026-05-31"]  # since filters
    top = re.findall(r"<li>([^<]+)</li>", by_day.split('id="top-intents"')[1].split("</ol>")[0])
    assert top[0] == "thank (3)"


async def test_top_fallback_messages_are_counted(
    server: ParleyServer, store: SQLTrackerStore
) -> None:
    for n in range(3):
        await store.append(f"lost{n}", [user("Order a pizza", "nlu_fallback", 0.1, T0 + 5 * DAY)])
    async with await login(server, "analyst") as client:
        html = (await client.get("/studio/analytics?group=day")).text
        refused = await client.get("/studio/analytics?since=yesterday")
    assert "<li>order a pizza (3)</li>" in html
    assert rows(html)["2026-06-02"] == ("3", "100%", "0%", "100%", "1.0")
    assert refused.status_code == 400


async def test_analytics_needs_its_permission(server: ParleyServer) -> None:
    async with await login(server, "annotator") as client:
        assert (await client.get("/studio/analytics")).status_code == 403
