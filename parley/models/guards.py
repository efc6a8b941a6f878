"""Auto-steps and their guards: per-version metrics from stored events, intervals on the
difference between candidate and control, and the decision to step, wait or roll back.

A guard compares the candidate with the control on one metric, in the direction that is worse
(a higher fallback rate, a lower containment). With `confidence` c:
- a *rollout condition* (`advance_when`) holds when the upper c-bound of "how much worse" is at
  most `max_worse`: the candidate is shown to be no worse than that, so a step is never taken on
  noise;
- a *failure condition* (`rollback_when`) holds when the lower c-bound of "how much worse" is
  above `max_worse`: the candidate is shown to be worse, and the rollout is rolled back at once.
Rates are per conversation (each user's conversation with one version counts once), so the
samples are independent; the interval is Newcombe's hybrid score interval from two Wilson
intervals, which stays honest for small counts and rates near 0.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})
FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTION = "action_handoff_to_human"
HANDOFF_KEY = "handoff_to_human"

# metric -> True when a higher value is worse
RATE_METRICS: dict[str, bool] = {
    "fallback_rate": True,
    "handoff_rate": True,
    "action_error_rate": True,
    "containment": False,
}
LATENCY_METRIC = "p95_latency_ms"
METRICS = (*RATE_METRICS, LATENCY_METRIC)


class PlanError(ValueError):
    """A rollout plan names an unknown metric or an impossible step."""


@dataclass(frozen=True)
class Step:
    percent: float
    min_minutes: float = 0.0
    min_conversations: int = 0


@dataclass(frozen=True)
class Guard:
    metric: str
    max_worse: float  # rates: absolute difference (0.02 = 2 points); latency: relative (0.2)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise PlanError(f"unknown metric {self.metric!r}; use one of {', '.join(METRICS)}")


@dataclass(frozen=True)
class RolloutPlan:
    """Auto-steps (empty: the share changes only by hand) and the guards that govern them."""

    steps: tuple[Step, ...] = ()
    advance_when: tuple[Guard, ...] = ()
    rollback_when: tuple[Guard, ...] = ()
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0.5 < self.confidence < 1:
            raise PlanError(f"confidence {self.confidence} must be between 0.5 and 1")
        previous = 0.0
        for step in self.steps:
            if not previous < step.percent <= 100:
                raise PlanError("step percents must rise, each in (0, 100]")
            previous = step.percent

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> RolloutPlan:
        """From the plan's JSON/YAML form (see docs/rollout.md)."""
        raw = raw or {}
        try:
            steps = tuple(
                Step(
                    percent=float(s["percent"]),
                    min_minutes=float(s.get("min_minutes", 0)),
                    min_conversations=int(s.get("min_conversations", 0)),
                )
                for s in raw.get("steps", [])
            )
            return cls(
                steps=steps,
                advance_when=_guards(raw.get("advance_when")),
                rollback_when=_guards(raw.get("rollback_when")),
                confidence=float(raw.get("confidence", 0.95)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise PlanError(f"rollout plan: {exc!r} is missing or malformed") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": [
                {
                    "percent": s.percent,
                    "min_minutes": s.min_minutes,
                    "min_conversations": s.min_conversations,
                }
                for s in self.steps
            ],
            "advance_when": {g.metric: {"max_worse": g.max_worse} for g in self.advance_when},
            "rollback_when": {g.metric: {"max_worse": g.max_worse} for g in self.rollback_when},
            "confidence": self.confidence,
        }


def _guards(raw: Any) -> tuple[Guard, ...]:
    if not raw:
        return ()
    return tuple(Guard(str(metric), float(spec["max_worse"])) for metric, spec in raw.items())


# -- metrics ------------------------------------------------------------------------------------


@dataclass
class VersionMetrics:
    """What one version did: per-conversation outcomes and per-turn latencies."""

    conversations: int = 0
    fallback: int = 0
    handoff: int = 0
    action_error: int = 0
    turns: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    first_turn_times: list[float] = field(default_factory=list)

    def count(self, metric: str) -> int:
        return {
            "fallback_rate": self.fallback,
            "handoff_rate": self.handoff,
            "action_error_rate": self.action_error,
            "containment": self.conversations - self.handoff,
        }[metric]

    def rate(self, metric: str) -> float | None:
        if not self.conversations:
            return None
        return self.count(metric) / self.conversations

    def p95_latency_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 0.95)

    def conversations_since(self, at: float) -> int:
        return sum(1 for t in self.first_turn_times if t >= at)

    def to_json(self, confidence: float = 0.95) -> dict[str, Any]:
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        out: dict[str, Any] = {"conversations": self.conversations, "turns": self.turns}
        for metric in RATE_METRICS:
            low, high = wilson(self.count(metric), self.conversations, z)
            out[metric] = {"value": self.rate(metric), "interval": [low, high]}
        out[LATENCY_METRIC] = self.p95_latency_ms()
        out["confidence_p50"] = _percentile(self.confidences, 0.5)
        out["confidence_p10"] = _percentile(self.confidences, 0.1)
        return out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass
class _Turn:
    start: float
    version: str | None = None
    end: float = 0.0
    fallback: bool = False
    handoff: bool = False
    error: bool = False
    confidence: float | None = None


async def collect_metrics(
    events: AsyncIterator[tuple[str, dict[str, Any]]], since: float
) -> dict[str, VersionMetrics]:
    """Per model version, from `(sender_id, event)` pairs in conversation order: turns that
    began at or after `since`. A turn belongs to the version named by its events'
    `metadata.model_id`; a sender's turns with one version make one conversation of it."""
    per_conversation: dict[tuple[str, str], list[_Turn]] = {}
    open_turns: dict[str, _Turn] = {}
    async for sender_id, event in events:
        kind = event.get("event")
        timestamp = float(event.get("timestamp") or 0.0)
        if kind == "user":
            _close(sender_id, open_turns, per_conversation)
            if timestamp < since:
                continue
            turn = _Turn(start=timestamp, end=timestamp)
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            if intent.get("name") == FALLBACK_INTENT:
                turn.fallback = True
            if isinstance(intent.get("confidence"), int | float):
                turn.confidence = float(intent["confidence"])
            open_turns[sender_id] = turn
            turn.version = _model_id(event)
            continue
        current = open_turns.get(sender_id)
        if current is None:
            continue
        turn = current
        turn.version = turn.version or _model_id(event)
        turn.end = max(turn.end, timestamp)
        name = event.get("name")
        if kind == "action" and name in FALLBACK_ACTIONS:
            turn.fallback = True
        if (kind == "action" and name == HANDOFF_ACTION) or (
            kind == "pause" and HANDOFF_KEY in (event.get("metadata") or {})
        ):
            turn.handoff = True
        if kind == "action_execution_rejected" and (event.get("metadata") or {}).get("error"):
            turn.error = True
    for sender_id in list(open_turns):
        _close(sender_id, open_turns, per_conversation)
    metrics: dict[str, VersionMetrics] = {}
    for (_, version), turns in per_conversation.items():
        m = metrics.setdefault(version, VersionMetrics())
        m.conversations += 1
        m.turns += len(turns)
        m.fallback += any(t.fallback for t in turns)
        m.handoff += any(t.handoff for t in turns)
        m.action_error += any(t.error for t in turns)
        m.first_turn_times.append(turns[0].start)
        m.latencies_ms.extend((t.end - t.start) * 1000 for t in turns)
        m.confidences.extend(t.confidence for t in turns if t.confidence is not None)
    return metrics


def _model_id(event: dict[str, Any]) -> str | None:
    metadata = event.get("metadata")
    value = metadata.get("model_id") if isinstance(metadata, dict) else None
    return str(value) if value else None


def _close(
    sender_id: str,
    open_turns: dict[str, _Turn],
    per_conversation: dict[tuple[str, str], list[_Turn]],
) -> None:
    turn = open_turns.pop(sender_id, None)
    if turn is not None and turn.version is not None:
        per_conversation.setdefault((sender_id, turn.version), []).append(turn)


# -- intervals and decisions --------------------------------------------------------------------


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there is no sample."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float, float]:
    """p1 - p2 and its Newcombe hybrid score interval (estimate, low, high)."""
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


@dataclass(frozen=True)
class GuardResult:
    metric: str
    worse_by: float | None  # how much worse the candidate is (negative: better)
    low: float | None
    high: float | None
    max_worse: float

    def shown_no_worse(self) -> bool:
        return self.high is not None and self.high <= self.max_worse

    def shown_worse(self) -> bool:
        return self.low is not None and self.low > self.max_worse

    def describe(self) -> str:
        if self.worse_by is None:
            return f"{self.metric}: no data yet"
        return (
            f"{self.metric}: candidate worse by {self.worse_by:+.4f} "
            f"(interval {self.low:+.4f} .. {self.high:+.4f}, limit {self.max_worse:+.4f})"
        )


def evaluate_guard(
    guard: Guard, control: VersionMetrics, candidate: VersionMetrics, confidence: float
) -> GuardResult:
    """One-sided at `confidence` on each side: the interval is the central 2c-1 interval."""
    if guard.metric == LATENCY_METRIC:
        ours, theirs = candidate.p95_latency_ms(), control.p95_latency_ms()
        if ours is None or theirs is None or theirs <= 0:
            return GuardResult(guard.metric, None, None, None, guard.max_worse)
        relative = ours / theirs - 1  # no interval for a percentile: compared as measured
        return GuardResult(guard.metric, relative, relative, relative, guard.max_worse)
    if not control.conversations or not candidate.conversations:
        return GuardResult(guard.metric, None, None, None, guard.max_worse)
    z = NormalDist().inv_cdf(confidence)
    d, low, high = difference_interval(
        candidate.count(guard.metric),
        candidate.conversations,
        control.count(guard.metric),
        control.conversations,
        z,
    )
    if not RATE_METRICS[guard.metric]:  # higher is better: worse means lower
        d, low, high = -d, -high, -low
    return GuardResult(guard.metric, d, low, high, guard.max_worse)


@dataclass(frozen=True)
class Decision:
    action: Literal["step", "promote", "rollback", "wait"]
    reason: str
    percent: float | None = None
    guards: tuple[GuardResult, ...] = ()


def decide(
    plan: RolloutPlan,
    step_index: int,
    step_started_at: float,
    control: VersionMetrics,
    candidate: VersionMetrics,
    now: float,
) -> Decision:
    """What the guards say about a running experiment now."""
    failures = [evaluate_guard(g, control, candidate, plan.confidence) for g in plan.rollback_when]
    broken = [r for r in failures if r.shown_worse()]
    if broken:
        return Decision("rollback", "; ".join(r.describe() for r in broken), 0.0, tuple(failures))
    if not plan.steps:
        return Decision("wait", "no auto-steps: the share changes by hand", None, tuple(failures))
    step = plan.steps[min(step_index, len(plan.steps) - 1)]
    waited = (now - step_started_at) / 60
    if waited < step.min_minutes:
        return Decision(
            "wait", f"step at {step.percent}% runs {step.min_minutes} min; {waited:.1f} min so far"
        )
    seen = candidate.conversations_since(step_started_at)
    if seen < step.min_conversations:
        return Decision(
            "wait",
            f"step at {step.percent}% needs {step.min_conversations} "
            f"candidate conversations; {seen} so far",
        )
    checks = [evaluate_guard(g, control, candidate, plan.confidence) for g in plan.advance_when]
    unproven = [r for r in checks if not r.shown_no_worse()]
    if unproven:
        return Decision(
            "wait",
            "not yet shown to be no worse: " + "; ".join(r.describe() for r in unproven),
            None,
            tuple(checks),
        )
    if step_index + 1 < len(plan.steps):
        following = plan.steps[step_index + 1].percent
        return Decision("step", f"guards hold at {step.percent}%", following, tuple(checks))
    return Decision(
        "promote", f"guards hold at the last step ({step.percent}%)", 100.0, tuple(checks)
    )
