"""Prometheus metrics: HTTP latency, messages, NLU confidence, fallbacks, handoffs, actions.

Each app owns its registry (no process-global state), so two servers in one process (tests)
keep separate counts. With `parley run --workers N` the values go to prometheus_client's shared
files instead, and `/metrics` on any worker sums them over all workers.

Conversation-level figures come from the events the engine publishes: `MetricsEventBroker` sits
in front of the configured broker, and `MetricsActionRunner` in front of the custom-action
runner, so the engine needs no metrics code of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from parley.dialogue.custom import ActionRejected, ActionServerError, CustomActionRunner
from parley.stores.base import EventBroker, EventDict

CONTENT_TYPE = CONTENT_TYPE_LATEST
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})
FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTIONS = frozenset({"action_handoff_to_human", "action_handoff"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's switch to shared files


def shared_directory() -> str | None:
    """Where workers keep their metric values (set before prometheus_client is first used)."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def forget_process(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters and histograms keep counting)."""
    if shared_directory():
        multiprocess.mark_process_dead(pid)


class ServerMetrics:
    """The server's metric families, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "parley_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ("method", "route", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.messages = Counter(
            "parley_messages_total", "User messages handled, by channel.", ("channel",), registry=r
        )
        self.bot_messages = Counter(
            "parley_bot_messages_total", "Bot messages sent, by channel.", ("channel",), registry=r
        )
        self.nlu_confidence = Histogram(
            "parley_nlu_intent_confidence",
            "Confidence of the predicted intent of each user message.",
            buckets=_CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.fallbacks = Counter(
            "parley_fallbacks_total", "Turns that ended in a fallback.", registry=r
        )
        self.handoffs = Counter(
            "parley_handoffs_total", "Conversations handed to a human.", registry=r
        )
        self.handoff_releases = Counter(
            "parley_handoff_releases_total", "Conversations given back to the bot.", registry=r
        )
        self.action_seconds = Histogram(
            "parley_action_duration_seconds",
            "Custom action latency by action.",
            ("action",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.action_errors = Counter(
            "parley_action_errors_total",
            "Custom actions that failed, by action.",
            ("action",),
            registry=r,
        )
        self.model_loads = Counter(
            "parley_model_loads_total", "Models loaded (start and swaps).", registry=r
        )
        self.model_info = Gauge(
            "parley_model_info",
            "The model being served (value: the processes serving it).",
            ("model_id",),
            registry=r,
            multiprocess_mode="livesum",
        )
        self._model_label: str | None = None

    def exposition(self) -> bytes:
        """The text format; with workers, the sum over all of them (their shared files)."""
        if not shared_directory():
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)

    def set_model(self, model_id: str | None) -> None:
        label = model_id or "unknown"
        if self._model_label is not None and self._model_label != label:
            if shared_directory():  # the other workers' values live on: zero ours
                self.model_info.labels(model_id=self._model_label).set(0)
            else:
                self.model_info.remove(self._model_label)
        self.model_info.labels(model_id=label).set(1)
        self._model_label = label
        self.model_loads.inc()

    def observe_events(self, events: Sequence[EventDict]) -> None:
        """Count what a turn's stored events say: NLU confidence, fallbacks, handoffs."""
        for event in events:
            kind = event.get("event")
            if kind == "user":
                intent = (event.get("parse_data") or {}).get("intent") or {}
                confidence = intent.get("confidence")
                if isinstance(confidence, (int, float)):
                    self.nlu_confidence.observe(float(confidence))
                if intent.get("name") == FALLBACK_INTENT:
                    self.fallbacks.inc()
            elif kind == "action":
                name = event.get("name")
                if name in FALLBACK_ACTIONS:
                    self.fallbacks.inc()
                elif name in HANDOFF_ACTIONS:
                    self.handoffs.inc()


class MetricsEventBroker:
    """Observes published events for metrics, then passes them to the real broker (if any)."""

    def __init__(self, metrics: ServerMetrics, inner: EventBroker | None = None) -> None:
        self._metrics = metrics
        self._inner = inner

    async def publish(self, sender_id: str, events: Sequence[EventDict]) -> None:
        self._metrics.observe_events(events)
        if self._inner is not None:
            await self._inner.publish(sender_id, events)

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


class MetricsActionRunner:
    """Times each custom action and counts failures, around the real runner."""

    def __init__(self, metrics: ServerMetrics, inner: CustomActionRunner) -> None:
        self._metrics = metrics
        self._inner = inner

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return await self._inner.run(action_name, payload)
        except (ActionServerError, ActionRejected):  # refusals are counted with the errors
            self._metrics.action_errors.labels(action=action_name).inc()
            raise
        finally:
            self._metrics.action_seconds.labels(action=action_name).observe(
                time.perf_counter() - start
            )

    async def close(self) -> None:
        await self._inner.close()
