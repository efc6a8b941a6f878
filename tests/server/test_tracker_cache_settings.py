"""parley.yml's `server.tracker_cache_*` bound the trackers each server process keeps."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import httpx
import pytest
from pydantic import ValidationError

from parley.agent import Agent
from parley.security.settings import ServerSettings
from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import RunOptions, ServerConfig, ServerConfigError, merge_run_options
from parley.tracker_cache import TrackerCache
from tests.server.helpdesk import helpdesk_model
from tests.server.live import running


def test_parley_yml_sets_the_tracker_cache_bounds() -> None:
    settings = ServerSettings.model_validate(
        {"tracker_cache_conversations": 2, "tracker_cache_events": 5000}
    )
    config, _ = merge_run_options(RunOptions(), settings)
    assert (config.tracker_cache_conversations, config.tracker_cache_events) == (2, 5000)
    defaults, _ = merge_run_options(RunOptions(), ServerSettings())
    assert (defaults.tracker_cache_conversations, defaults.tracker_cache_events) == (None, None)
    cache = TrackerCache(defaults.tracker_cache_conversations, defaults.tracker_cache_events)
    assert (cache.size, cache.max_events) == (256, 300_000)


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValidationError, match="tracker_cache_events"):
        ServerSettings.model_validate({"tracker_cache_events": -1})
    with pytest.raises(ServerConfigError, match="tracker cache"):
        ServerConfig(tracker_cache_conversations=-1)


async def test_the_server_keeps_at_most_the_configured_conversations(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    files = ProjectFiles(project=tmp_path, model=helpdesk_model())
    server = await build_server(files, ServerConfig(tracker_cache_conversations=2))
    agent = cast(Agent, server.holder.agent)
    assert agent.trackers.size == 2
    url = "/webhooks/rest/webhook"
    async with running(server) as port, httpx.AsyncClient(timeout=30) as client:
        for sender in ("a", "b", "c"):
            reply = await client.post(
                f"http://127.0.0.1:{port}{url}", json={"sender": sender, "message": "hello"}
            )
            assert reply.json(), sender
        assert len(agent.trackers) == 2 and "a" not in agent.trackers
        # the conversation that left the cache goes on from the store
        again = await client.post(
            f"http://127.0.0.1:{port}{url}", json={"sender": "a", "message": "I forgot my password"}
        )
        assert again.json()
        events = await agent.tracker_store.load("a")
    assert events is not None
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "hello",
        "I forgot my password",
    ]
