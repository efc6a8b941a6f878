"""Registered model versions loaded beside the served one for the senders pinned to them: each
loaded once however many ask at the same time, the least recently used closed beyond `keep`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.agent import Agent
from parley.models.registry import RegistryError
from parley.models.service import Releases, open_releases
from parley.server.runtime import AgentHolder
from parley.server.version_agents import VersionAgents
from tests.server.helpdesk import GREETING, helpdesk_model, helpdesk_variant

SECOND = "Second version here."
THIRD = "Third version here."


@pytest.fixture
async def releases(tmp_path: Path) -> AsyncIterator[tuple[Releases, list[str]]]:
    """The registry with three versions: the served one, SECOND's, THIRD's."""
    opened = await open_releases({}, tmp_path)
    versions = [
        (await opened.registry.register(archive)).version
        for archive in (helpdesk_model(), helpdesk_variant(SECOND), helpdesk_variant(THIRD))
    ]
    yield opened, versions
    await opened.close()


async def _greeting(agent: Agent, sender: str) -> str:
    return " ".join(m.get("text", "") for m in await agent.handle_message(sender, "hello"))


async def test_versions_load_once_answer_as_themselves_and_the_oldest_is_unloaded(
    releases: tuple[Releases, list[str]], tmp_path: Path
) -> None:
    registry, (_, second, third) = releases[0].registry, releases[1]
    loads: list[Path] = []

    def load(path: Path) -> Agent:
        loads.append(path)
        return Agent.load(path)

    served = Agent.load(helpdesk_model())
    holder = AgentHolder(served, helpdesk_model(), load)
    agents = VersionAgents(holder, registry, tmp_path / "cache", keep=1)
    assert await agents.agent(None) is served
    assert await agents.agent(served.model_id) is served  # the served version: nothing loaded
    together = await asyncio.gather(*(agents.agent(second) for _ in range(3)))
    assert len(loads) == 1 and all(agent is together[0] for agent in together)
    assert SECOND in await _greeting(together[0], "s2")
    assert GREETING in await _greeting(served, "s1")

    third_agent = await agents.agent(third)
    assert THIRD in await _greeting(third_agent, "s3")
    assert agents.loaded == [third]  # keep=1: the second version was closed
    await agents.agent(second)
    assert len(loads) == 3
    with pytest.raises(RegistryError):
        await agents.agent("no-such-version")
    await agents.close()
    assert agents.loaded == []
