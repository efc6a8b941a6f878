"""Agents of registered model versions other than the served one, loaded when first asked for.

A studio guest link pins its conversations to one version of the model registry: this process
fetches that version's archive into the rollout cache and loads it beside the served model, with
the served model's stores and actions (`AgentHolder.load_beside`). Each worker loads its own
copy on first use. At most `keep` versions stay loaded; the least recently used one is closed
when another is needed (requests still on it finish, as after a swap).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path

from parley.models.registry import ModelRegistry, ModelVersion
from parley.server.runtime import AgentHolder, ServedAgent

logger = logging.getLogger(__name__)

KEEP_LOADED = 3


class VersionAgents:
    """`agent(version)`: the agent answering with that registered version (None: the served
    model). Raises `RegistryError` for an unknown version, `ModelSwapError` when it cannot load."""

    def __init__(
        self,
        holder: AgentHolder,
        registry: ModelRegistry,
        cache_dir: Path,
        keep: int = KEEP_LOADED,
    ) -> None:
        self.holder = holder
        self.registry = registry
        self.cache_dir = cache_dir
        self.keep = keep
        self._loaded: OrderedDict[str, ServedAgent] = OrderedDict()
        self._lock = asyncio.Lock()

    async def versions(self) -> list[ModelVersion]:
        """The registered versions, newest first (none when nothing was registered)."""
        return await self.registry.list()

    async def agent(self, version: str | None) -> ServedAgent:
        served = self.holder.agent
        if version is None or version == served.model_id:
            return served
        agent = self._loaded.get(version)
        if agent is not None:
            self._loaded.move_to_end(version)
            return agent
        async with self._lock:  # two first messages load the version once
            agent = self._loaded.get(version)
            if agent is None:
                archive = await self.registry.fetch(version, self.cache_dir)
                agent = await self.holder.load_beside(archive)
                self._loaded[version] = agent
                logger.info("loaded model %s for a guest link", version)
                await self._unload_beyond(self.keep)
        return agent

    @property
    def loaded(self) -> list[str]:
        """The versions loaded now, least recently used first."""
        return list(self._loaded)

    async def _unload_beyond(self, keep: int) -> None:
        while len(self._loaded) > keep:
            version, agent = self._loaded.popitem(last=False)
            await agent.close()
            logger.info("unloaded model %s (not used by a guest link lately)", version)

    async def close(self) -> None:
        await self._unload_beyond(0)
