"""Guards: metrics from stored events, intervals, and step / wait / roll back decisions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.models.guards import (
    PlanError,
    RolloutPlan,
    VersionMetrics,
    collect_metrics,
    decide,
    difference_interval,
    wilson,
)

PLAN = RolloutPlan.from_json(
    {
        "steps": [
            {"percent": 10, "min_minutes": 5, "min_conversations": 100},
            {"percent": 50},
            {"percent": 100},
        ],
        "advance_when": {"fallback_rate": {"max_worse": 0.02}},
        "rollback_when": {"fallback_rate": {"max_worse": 0.05}},
        "confidence": 0.95,
    }
)


def _metrics(conversations: int, fallbacks: int, started: float = 0.0) -> VersionMetrics:
    return VersionMetrics(
        conversations=conversations,
        fallback=fallbacks,
        first_turn_times=[started] * conversations,
    )


def test_a_clearly_worse_candidate_is_rolled_back() -> None:
    decision = decide(PLAN, 0, 0.0, _metrics(2000, 100), _metrics(400, 80), now=60.0)
    assert decision.action == "rollback"
    assert "fallback_rate" in decision.reason


def test_a_difference_inside_the_noise_does_not_step_up() -> None:
    # 5 % vs 6 %, 150 conversations on the candidate: could be 2 points worse, not shown
    decision = decide(PLAN, 0, 0.0, _metrics(3000, 150), _metrics(150, 9), now=600.0)
    assert decision.action == "wait"
    assert "not yet shown" in decision.reason


def test_enough_evidence_steps_to_the_next_share() -> None:
    decision = decide(PLAN, 0, 0.0, _metrics(20000, 1000), _metrics(5000, 240), now=600.0)
    assert decision.action == "step"
    assert decision.percent == 50


def test_a_step_waits_for_its_minimum_duration_and_conversations() -> None:
    good = (_metrics(20000, 1000), _metrics(5000, 240))
    assert decide(PLAN, 0, 0.0, *good, now=60.0).action == "wait"  # 1 of 5 minutes
    few = _metrics(50, 2)
    assert "needs 100" in decide(PLAN, 0, 0.0, good[0], few, now=600.0).reason


def test_the_last_step_promotes() -> None:
    decision = decide(PLAN, 2, 0.0, _metrics(20000, 1000), _metrics(20000, 1000), now=600.0)
    assert decision.action == "promote"


def test_containment_counts_lower_as_worse() -> None:
    plan = RolloutPlan.from_json({"rollback_when": {"containment": {"max_worse": 0.05}}})
    control = VersionMetrics(conversations=1000, handoff=50)
    candidate = VersionMetrics(conversations=1000, handoff=300)  # containment 0.95 -> 0.70
    assert decide(plan, 0, 0.0, control, candidate, now=0.0).action == "rollback"
    better = VersionMetrics(conversations=1000, handoff=10)
    assert decide(plan, 0, 0.0, control, better, now=0.0).action == "wait"


def test_intervals_cover_the_textbook_values() -> None:
    # Newcombe (1998), example: 56/70 vs 48/80 -> difference 0.2, 95 % CI 0.0524 .. 0.3339
    d, low, high = difference_interval(56, 70, 48, 80, 1.959964)
    assert d == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)
    assert wilson(0, 0, 1.96) == (0.0, 1.0)


def test_unknown_metrics_and_falling_steps_are_refused() -> None:
    with pytest.raises(PlanError, match="unknown metric"):
        RolloutPlan.from_json({"advance_when": {"happiness": {"max_worse": 0.1}}})
    with pytest.raises(PlanError, match="must rise"):
        RolloutPlan.from_json({"steps": [{"percent": 50}, {"percent": 10}]})


async def _stream(
    pairs: list[tuple[str, dict[str, Any]]],
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    for pair in pairs:
        yield pair


def _user(t: float, model: str, intent: str = "greet") -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": t,
        "text": "hi",
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
        "metadata": {"model_id": model},
    }


def _action(t: float, model: str, name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": t, "name": name, "metadata": {"model_id": model}}


async def test_metrics_are_counted_per_conversation_and_version() -> None:
    events = [
        ("a", _user(10.0, "v1")),
        ("a", _action(10.2, "v1", "utter_greet")),
        ("a", _user(20.0, "v1", "nlu_fallback")),
        ("a", _action(20.1, "v1", "action_default_fallback")),
        ("b", _user(11.0, "v2")),
        ("b", _action(11.5, "v2", "action_handoff_to_human")),
        ("c", _user(1.0, "v2")),  # before the experiment: not counted
        ("c", _action(1.1, "v2", "action_default_fallback")),
        ("d", _user(12.0, "v2")),
        (
            "d",
            {
                "event": "action_execution_rejected",
                "timestamp": 12.1,
                "name": "x",
                "metadata": {"model_id": "v2", "error": "timeout"},
            },
        ),
    ]
    metrics = await collect_metrics(_stream(events), since=5.0)
    assert metrics["v1"].conversations == 1
    assert metrics["v1"].fallback == 1 and metrics["v1"].turns == 2
    assert metrics["v2"].conversations == 2
    assert metrics["v2"].handoff == 1 and metrics["v2"].fallback == 0
    assert metrics["v2"].action_error == 1
    assert metrics["v2"].rate("containment") == 0.5
    assert metrics["v1"].p95_latency_ms() == pytest.approx(200.0)
