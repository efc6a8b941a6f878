"""One evaluation of a running experiment: per-version metrics from the tracker store, the
guards' decision, and the change it calls for (step, promote or roll back) applied as a
compare-and-set, so replicas evaluating at the same time change the experiment once."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from parley.models.guards import Decision, VersionMetrics, collect_metrics, decide
from parley.models.rollout import Experiment, RolloutError, RolloutStore
from parley.stores.base import ManagedTrackerStore

logger = logging.getLogger(__name__)
AUTOSTEP_BY = "parley:autostep"


@dataclass(frozen=True)
class Evaluation:
    experiment: Experiment
    decision: Decision
    metrics: dict[str, VersionMetrics]
    applied: bool

    def to_json(self) -> dict[str, Any]:
        confidence = self.experiment.plan.confidence
        return {
            "experiment": self.experiment.to_json(),
            "decision": {
                "action": self.decision.action,
                "reason": self.decision.reason,
                "percent": self.decision.percent,
                "guards": [g.describe() for g in self.decision.guards],
            },
            "applied": self.applied,
            "metrics": {
                version: self.metrics.get(version, VersionMetrics()).to_json(confidence)
                for version in (self.experiment.control, self.experiment.candidate)
            },
        }


async def version_metrics(
    experiment: Experiment, tracker_store: ManagedTrackerStore
) -> dict[str, VersionMetrics]:
    """Metrics of every version since the experiment started."""
    since = experiment.started_at
    return await collect_metrics(tracker_store.stream_events(since=since), since)


async def evaluate(
    store: RolloutStore,
    tracker_store: ManagedTrackerStore,
    *,
    apply: bool = True,
    now: float | None = None,
) -> Evaluation | None:
    """Evaluate the running experiment (None when none runs) and, with `apply`, carry out
    what its plan's guards decide."""
    experiment = await store.running()
    if experiment is None:
        return None
    metrics = await version_metrics(experiment, tracker_store)
    decision = decide(
        experiment.plan,
        experiment.step_index,
        experiment.step_started_at,
        metrics.get(experiment.control, VersionMetrics()),
        metrics.get(experiment.candidate, VersionMetrics()),
        now if now is not None else time.time(),
    )
    applied = False
    if apply and decision.action != "wait":
        try:
            experiment = await _apply(store, experiment, decision)
            applied = True
            logger.warning("rollout %s: %s (%s)", experiment.id, decision.action, decision.reason)
        except RolloutError as exc:  # another replica changed it first
            logger.info("rollout %s: %s", experiment.id, exc)
    return Evaluation(experiment, decision, metrics, applied)


async def _apply(store: RolloutStore, experiment: Experiment, decision: Decision) -> Experiment:
    revision = experiment.revision
    if decision.action == "rollback":
        return await store.rollback(AUTOSTEP_BY, decision.reason, expected_revision=revision)
    if decision.action == "step" and decision.percent is not None:
        return await store.step(
            decision.percent, AUTOSTEP_BY, decision.reason, expected_revision=revision
        )
    if decision.action == "promote":
        return await store.promote(AUTOSTEP_BY, decision.reason, expected_revision=revision)
    return experiment
