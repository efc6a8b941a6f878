"""Rollout experiments: sticky assignment, steps, promotion, rollback, compare-and-set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.models.guards import RolloutPlan
from parley.models.rollout import BUCKETS, PROMOTED, ROLLED_BACK, RolloutError, RolloutStore
from parley.stores.sql_engine import SQLSettings, create_engine, migrate

SENDERS = [f"user-{i}" for i in range(10_000)]


@pytest.fixture
async def rollouts(tmp_path: Path) -> AsyncIterator[RolloutStore]:
    engine = create_engine(SQLSettings(), tmp_path)
    await migrate(engine)
    yield RolloutStore(engine)
    await engine.dispose()


def _on_candidate(experiment: object, senders: list[str]) -> set[str]:
    return {s for s in senders if experiment.arm(s) == "candidate"}  # type: ignore[attr-defined]


async def test_ten_percent_of_senders_get_the_candidate(rollouts: RolloutStore) -> None:
    experiment = await rollouts.start("v1", "v2", 10, experiment_id="exp-share-test")
    share = len(_on_candidate(experiment, SENDERS)) / len(SENDERS)
    assert 0.09 <= share <= 0.11
    again = await rollouts.get(experiment.id)  # as another replica reads it
    assert _on_candidate(again, SENDERS) == _on_candidate(experiment, SENDERS)
    assert {experiment.version_for(s) for s in SENDERS} == {"v1", "v2"}


async def test_stepping_up_keeps_everyone_already_on_the_candidate(
    rollouts: RolloutStore,
) -> None:
    first = await rollouts.start("v1", "v2", 10, experiment_id="exp-step-test")
    before = _on_candidate(first, SENDERS)
    stepped = await rollouts.step(20)
    after = _on_candidate(stepped, SENDERS)
    assert before < after
    assert 0.19 <= len(after) / len(SENDERS) <= 0.21
    assert [h["action"] for h in stepped.history] == ["start", "step"]


async def test_rollback_puts_everyone_on_the_control(rollouts: RolloutStore) -> None:
    await rollouts.start("v1", "v2", 50)
    rolled = await rollouts.rollback(by="ops", reason="fallbacks up")
    assert rolled.status == ROLLED_BACK
    assert _on_candidate(rolled, SENDERS) == set()
    assert await rollouts.running() is None
    assert rolled.history[-1]["reason"] == "fallbacks up"


async def test_promotion_puts_everyone_on_the_candidate(rollouts: RolloutStore) -> None:
    await rollouts.start("v1", "v2", 50)
    promoted = await rollouts.promote()
    assert promoted.status == PROMOTED
    assert _on_candidate(promoted, SENDERS) == set(SENDERS)


async def test_one_experiment_runs_at_a_time(rollouts: RolloutStore) -> None:
    await rollouts.start("v1", "v2", 10)
    with pytest.raises(RolloutError, match="still running"):
        await rollouts.start("v1", "v3", 10)


async def test_a_change_decided_on_stale_state_is_refused(rollouts: RolloutStore) -> None:
    experiment = await rollouts.start("v1", "v2", 10)
    await rollouts.step(20, expected_revision=experiment.revision)
    with pytest.raises(RolloutError, match="changed meanwhile"):
        await rollouts.step(50, expected_revision=experiment.revision)
    assert (await rollouts.get(experiment.id)).percent == 20


async def test_bad_percent_and_same_version_are_refused(rollouts: RolloutStore) -> None:
    with pytest.raises(RolloutError, match="between 0 and 100"):
        await rollouts.start("v1", "v2", 120)
    with pytest.raises(RolloutError, match="already the production model"):
        await rollouts.start("v1", "v1", 10)
    with pytest.raises(RolloutError, match="no rollout is running"):
        await rollouts.step(20)


async def test_a_plan_starts_at_its_first_step(rollouts: RolloutStore) -> None:
    plan = RolloutPlan.from_json({"steps": [{"percent": 5}, {"percent": 25}, {"percent": 100}]})
    experiment = await rollouts.start("v1", "v2", 50, plan)
    assert experiment.percent == 5
    assert (await rollouts.get(experiment.id)).plan == plan


def test_buckets_are_spread_evenly() -> None:
    from parley.models.rollout import bucket_of

    counts = [0] * 10
    for sender in SENDERS:
        counts[bucket_of("exp", sender) * 10 // BUCKETS] += 1
    assert min(counts) > 900 and max(counts) < 1100
