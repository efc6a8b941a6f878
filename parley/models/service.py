"""The release path as users drive it (CLI and admin API): the registry, the experiments and
the guards together. `open_releases` reads `model_registry` from endpoints.yml:

```yaml
model_registry:
  store:            # where versions, tags and experiments are kept (Rasa-style SQL keys);
    dialect: postgresql   # default: the tracker store's database when it is SQL, else parley.db
    url: db.internal
  storage:          # where archives are kept; default: the project's models/ folder
    type: s3
    bucket: models
    endpoint_url: https://minio.internal:9000
```
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from parley.models.autostep import Evaluation, evaluate
from parley.models.guards import RolloutPlan
from parley.models.registry import CANDIDATE, PRODUCTION, ModelRegistry, ModelVersion
from parley.models.rollout import Experiment, RolloutError, RolloutStore
from parley.models.storage import build_storage
from parley.project.endpoints import Endpoints
from parley.stores.base import ManagedTrackerStore
from parley.stores.sql_engine import SQLSettings, create_engine, migrate


@dataclass
class Releases:
    """Registry + rollout over one database; close() when done."""

    engine: AsyncEngine
    registry: ModelRegistry
    rollouts: RolloutStore

    async def close(self) -> None:
        await self.engine.dispose()

    async def start(
        self,
        candidate: str,
        percent: float,
        control: str | None = None,
        plan: RolloutPlan | None = None,
        by: str | None = None,
        experiment_id: str | None = None,
    ) -> Experiment:
        """Start a rollout of `candidate` (a version or tag) against `control` (default: the
        version tagged `production`)."""
        chosen = await self.registry.resolve(candidate)
        if control is None:
            control = await self.registry.tagged(PRODUCTION)
            if control is None:
                raise RolloutError(
                    "no model is tagged production: `parley models tag VERSION production` first "
                    "(or pass --control)"
                )
        baseline = await self.registry.resolve(control)
        experiment = await self.rollouts.start(
            baseline.version, chosen.version, percent, plan, by, experiment_id
        )
        await self.registry.tag(chosen.version, CANDIDATE)
        return experiment

    async def promote(self, by: str | None = None, reason: str | None = None) -> Experiment:
        experiment = await self.rollouts.promote(by, reason)
        await self._promoted(experiment)
        return experiment

    async def _promoted(self, experiment: Experiment) -> None:
        await self.registry.tag(experiment.candidate, PRODUCTION)
        await self.registry.tag(experiment.control, "previous-production")
        if await self.registry.tagged(CANDIDATE) == experiment.candidate:
            await self.registry.untag(CANDIDATE)

    async def evaluate(
        self, tracker_store: ManagedTrackerStore, apply: bool = True, now: float | None = None
    ) -> Evaluation | None:
        """The guards' verdict on the running experiment, carried out when `apply`."""
        result = await evaluate(self.rollouts, tracker_store, apply=apply, now=now)
        if result is not None and result.applied and result.decision.action == "promote":
            await self._promoted(result.experiment)
        return result

    async def register(
        self, archive: Path, project_root: Path | None = None, trained_by: str | None = None
    ) -> ModelVersion:
        from parley.models.registry import training_data_hash

        data_hash = training_data_hash(project_root) if project_root is not None else None
        return await self.registry.register(archive, trained_by=trained_by, data_hash=data_hash)


def registry_settings(endpoints: Endpoints) -> SQLSettings:
    """The SQL database of the registry: `model_registry.store`, else the tracker store's when
    it is SQL, else the project's SQLite file."""
    section = endpoints.section("model_registry")
    store = section.get("store") if section is not None else None
    if isinstance(store, Mapping):
        return SQLSettings.from_endpoint(store, "endpoints.yml: model_registry.store")
    tracker = endpoints.tracker_store
    if tracker is not None and tracker.type("sql") == "sql":
        return SQLSettings.from_endpoint(tracker.settings, tracker.where)
    return SQLSettings()


async def open_releases(
    endpoints: Endpoints | Mapping[str, Any] | None, project_root: Path
) -> Releases:
    """Connect to (and migrate) the registry database and its archive storage."""
    if not isinstance(endpoints, Endpoints):
        endpoints = Endpoints.parse(endpoints)
    settings = registry_settings(endpoints)
    engine = create_engine(settings, project_root)
    try:
        await migrate(engine, settings.schema)
    except BaseException:
        await engine.dispose()
        raise
    section = endpoints.section("model_registry")
    storage = build_storage(section.get("storage") if section is not None else None, project_root)
    return Releases(engine, ModelRegistry(engine, storage), RolloutStore(engine))


def now() -> float:
    return time.time()
