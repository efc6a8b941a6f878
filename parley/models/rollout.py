"""Rollout experiments: a candidate model serves a sticky share of the users.

A sender's place is a stable hash of the experiment id and the sender id, mapped to one of
10,000 buckets; the candidate serves the buckets below `percent * 100`. So the same user always
gets the same version, and users already on the candidate stay there when the share grows.
After a rollback every sender is on the control again at its next turn; after a promotion the
candidate is the production model for everyone.

State is one row per experiment in SQL; every replica reads it (see
`parley.server.rollout_router`), and every change is a compare-and-set on the row's `revision`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.models.guards import RolloutPlan
from parley.stores.sql_engine import writer
from parley.stores.sql_schema import experiments

BUCKETS = 10_000
RUNNING = "running"
PROMOTED = "promoted"
ROLLED_BACK = "rolled_back"
Arm = Literal["control", "candidate"]


class RolloutError(Exception):
    """A rollout command cannot be carried out (none running, bad percent, stale state)."""


def bucket_of(experiment_id: str, sender_id: str) -> int:
    """The sender's stable bucket in [0, 10,000) for this experiment."""
    digest = hashlib.sha256(f"{experiment_id}\0{sender_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def check_percent(percent: float) -> float:
    if not 0 <= percent <= 100:
        raise RolloutError(f"percent {percent} must be between 0 and 100")
    return round(float(percent), 2)


@dataclass(frozen=True)
class Experiment:
    """One rollout of `candidate` against `control` (the production model when it started)."""

    id: str
    control: str
    candidate: str
    percent: float
    status: str
    plan: RolloutPlan
    step_index: int
    started_at: float
    step_started_at: float
    updated_at: float
    revision: int
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def arm(self, sender_id: str) -> Arm:
        """Which version serves `sender_id` now."""
        if self.status == PROMOTED:
            return "candidate"
        if self.status != RUNNING:
            return "control"
        cut = round(self.percent * BUCKETS / 100)
        return "candidate" if bucket_of(self.id, sender_id) < cut else "control"

    def version_for(self, sender_id: str) -> str:
        return self.candidate if self.arm(sender_id) == "candidate" else self.control

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "control": self.control,
            "candidate": self.candidate,
            "percent": self.percent,
            "status": self.status,
            "plan": self.plan.to_json(),
            "step_index": self.step_index,
            "started_at": self.started_at,
            "step_started_at": self.step_started_at,
            "updated_at": self.updated_at,
            "revision": self.revision,
            "history": self.history,
        }


def _experiment(row: Any) -> Experiment:
    return Experiment(
        id=row["id"],
        control=row["control"],
        candidate=row["candidate"],
        percent=float(row["percent"]),
        status=row["status"],
        plan=RolloutPlan.from_json(json.loads(row["plan"])),
        step_index=int(row["step_index"]),
        started_at=float(row["started_at"]),
        step_started_at=float(row["step_started_at"]),
        updated_at=float(row["updated_at"]),
        revision=int(row["revision"]),
        history=json.loads(row["history"]),
    )


class RolloutStore:
    """Reads and changes experiments; every change is recorded in the experiment's history."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def current(self) -> Experiment | None:
        """The running experiment, else the most recently changed one (promoted/rolled back)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(experiments)
                    .order_by(
                        (experiments.c.status == RUNNING).desc(), experiments.c.updated_at.desc()
                    )
                    .limit(1)
                )
            ).first()
        return _experiment(row._mapping) if row is not None else None

    async def running(self) -> Experiment | None:
        current = await self.current()
        return current if current is not None and current.running else None

    async def get(self, experiment_id: str) -> Experiment:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(experiments).where(experiments.c.id == experiment_id)
                )
            ).first()
        if row is None:
            raise RolloutError(f"no experiment {experiment_id!r}")
        return _experiment(row._mapping)

    async def start(
        self,
        control: str,
        candidate: str,
        percent: float,
        plan: RolloutPlan | None = None,
        by: str | None = None,
        experiment_id: str | None = None,
    ) -> Experiment:
        """Start serving `candidate` to `percent` % of users; only one experiment runs.
        `experiment_id` (default: time and a random suffix) seeds every sender's bucket."""
        if control == candidate:
            raise RolloutError(f"the candidate {candidate} is already the production model")
        plan = plan or RolloutPlan()
        if plan.steps:
            percent = plan.steps[0].percent
        percent = check_percent(percent)
        now = time.time()
        entry = _entry(now, "start", percent, by, f"{candidate} against {control}")
        experiment = Experiment(
            id=experiment_id
            or f"exp-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}-{secrets.token_hex(3)}",
            control=control,
            candidate=candidate,
            percent=percent,
            status=RUNNING,
            plan=plan,
            step_index=0,
            started_at=now,
            step_started_at=now,
            updated_at=now,
            revision=1,
            history=[entry],
        )
        async with writer(self.engine).begin() as connection:
            already = (
                await connection.execute(
                    select(experiments.c.id).where(experiments.c.status == RUNNING)
                )
            ).scalar()
            if already is not None:
                raise RolloutError(
                    f"experiment {already} is still running: promote or roll it back first"
                )
            await connection.execute(insert(experiments).values(**_row(experiment)))
        return experiment

    async def step(
        self,
        percent: float,
        by: str | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> Experiment:
        """Change the candidate's share of the running experiment."""
        current = await self._running_or_error()
        percent = check_percent(percent)
        now = time.time()
        index = current.step_index
        for i, planned in enumerate(current.plan.steps):
            if planned.percent == percent:
                index = i
        changed = replace(
            current,
            percent=percent,
            step_index=index,
            step_started_at=now,
            updated_at=now,
            history=[*current.history, _entry(now, "step", percent, by, reason)],
        )
        return await self._save(changed, expected_revision or current.revision)

    async def promote(
        self, by: str | None = None, reason: str | None = None, expected_revision: int | None = None
    ) -> Experiment:
        """The candidate serves everyone; the experiment ends."""
        return await self._end(PROMOTED, 100.0, "promote", by, reason, expected_revision)

    async def rollback(
        self, by: str | None = None, reason: str | None = None, expected_revision: int | None = None
    ) -> Experiment:
        """Everyone is back on the control at their next turn; the experiment ends."""
        return await self._end(ROLLED_BACK, 0.0, "rollback", by, reason, expected_revision)

    async def _end(
        self,
        status: str,
        percent: float,
        action: str,
        by: str | None,
        reason: str | None,
        expected_revision: int | None,
    ) -> Experiment:
        current = await self._running_or_error()
        now = time.time()
        changed = replace(
            current,
            status=status,
            percent=percent,
            updated_at=now,
            history=[*current.history, _entry(now, action, percent, by, reason)],
        )
        return await self._save(changed, expected_revision or current.revision)

    async def _running_or_error(self) -> Experiment:
        running = await self.running()
        if running is None:
            raise RolloutError("no rollout is running (start one with `parley rollout start`)")
        return running

    async def _save(self, changed: Experiment, expected_revision: int) -> Experiment:
        saved = replace(changed, revision=expected_revision + 1)
        values = _row(saved)
        del values["id"]
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                update(experiments)
                .where(experiments.c.id == saved.id, experiments.c.revision == expected_revision)
                .values(**values)
            )
        if result.rowcount != 1:
            raise RolloutError(
                f"experiment {saved.id} changed meanwhile (by another replica or user); try again"
            )
        return saved


def _entry(
    at: float, action: str, percent: float, by: str | None, reason: str | None
) -> dict[str, Any]:
    return {"at": at, "action": action, "percent": percent, "by": by, "reason": reason}


def _row(experiment: Experiment) -> dict[str, Any]:
    return {
        "id": experiment.id,
        "control": experiment.control,
        "candidate": experiment.candidate,
        "percent": experiment.percent,
        "status": experiment.status,
        "plan": json.dumps(experiment.plan.to_json(), sort_keys=True),
        "step_index": experiment.step_index,
        "started_at": experiment.started_at,
        "step_started_at": experiment.step_started_at,
        "updated_at": experiment.updated_at,
        "revision": experiment.revision,
        "history": json.dumps(experiment.history),
    }
