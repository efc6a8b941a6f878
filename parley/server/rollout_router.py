"""Which model serves a sender: the rollout state, followed by every replica.

Each server process polls the experiment row (one small query a second), keeps the versions the
experiment needs loaded beside the served model, and answers `agent_for(sender_id)` without
I/O. A change made anywhere (CLI, admin API, another replica's auto-step) is followed within one
poll interval. On a promotion the candidate becomes the served model; after a rollback it is
dropped. The agents share the stores, so a conversation's lock orders its turns whatever model
serves them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from parley.models.rollout import PROMOTED, RUNNING, Experiment
from parley.models.service import Releases
from parley.server.runtime import AgentHolder, ServedAgent
from parley.stores.base import ManagedTrackerStore

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
EVALUATE_SECONDS = 30.0


class RolloutRouter:
    """Routes senders to the control or candidate agent of the experiment in force."""

    def __init__(
        self,
        holder: AgentHolder,
        releases: Releases,
        cache_dir: Path,
        tracker_store: ManagedTrackerStore | None = None,
        poll_seconds: float = POLL_SECONDS,
        evaluate_seconds: float = EVALUATE_SECONDS,
    ) -> None:
        self.holder = holder
        self.releases = releases
        self.cache_dir = cache_dir
        self.tracker_store = tracker_store
        self.poll_seconds = poll_seconds
        self.evaluate_seconds = evaluate_seconds
        self.experiment: Experiment | None = None
        self.extra: dict[str, ServedAgent] = {}  # loaded versions other than the served one
        self._last_evaluation = 0.0

    def agent_for(self, sender_id: str) -> ServedAgent:
        served = self.holder.agent
        experiment = self.experiment
        if experiment is None or experiment.status not in (RUNNING, PROMOTED):
            return served
        version = experiment.version_for(sender_id)
        if version == served.model_id:
            return served
        return self.extra.get(version, served)  # not loaded yet: the served model answers

    async def refresh(self) -> None:
        """Read the experiment and load or drop models to match it."""
        experiment = await self.releases.rollouts.current()
        if experiment is not None and experiment.status not in (RUNNING, PROMOTED):
            experiment = None
        if (
            experiment is not None
            and experiment.status == PROMOTED
            and self.holder.agent.model_id == experiment.candidate
        ):
            experiment = None  # done: the candidate is the served model
        wanted: set[str] = set()
        if experiment is not None:
            wanted = {experiment.candidate}
            if experiment.status == RUNNING:
                wanted.add(experiment.control)
        wanted.discard(self.holder.agent.model_id or "")
        for version in wanted - set(self.extra):
            await self._load(version)
        if experiment is not None and experiment.status == PROMOTED:
            agent = self.extra.pop(experiment.candidate, None)
            if agent is not None:
                path = self.cache_dir / f"{experiment.candidate}.tar.gz"
                await self.holder.install(agent, path)
                logger.info("rollout %s promoted: now serving %s", experiment.id, agent.model_id)
        self.experiment = experiment
        for version in set(self.extra) - wanted:
            agent = self.extra.pop(version)
            await agent.close()
            logger.info("unloaded model %s (no longer in a rollout)", version)

    async def _load(self, version: str) -> None:
        try:
            archive = await self.releases.registry.fetch(version, self.cache_dir)
            self.extra[version] = await self.holder.load_beside(archive)
            logger.info("loaded model %s for the rollout", version)
        except Exception:
            logger.exception("cannot load model %s for the rollout; the served model answers")

    async def run(self) -> None:
        """Follow the rollout state until cancelled; evaluate the guards now and then."""
        while True:
            try:
                await self.refresh()
                now = time.monotonic()
                if (
                    self.tracker_store is not None
                    and self.experiment is not None
                    and self.experiment.status == RUNNING
                    and now - self._last_evaluation >= self.evaluate_seconds
                ):
                    self._last_evaluation = now
                    await self.releases.evaluate(self.tracker_store)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("cannot read the rollout state; keeping the current routing")
            await asyncio.sleep(self.poll_seconds)

    async def close(self) -> None:
        for agent in self.extra.values():
            await agent.close()
        self.extra.clear()
        await self.releases.close()
