"""Readiness beyond "a model is loaded": the stores a turn needs answer. A replica whose
database or lock store is out of reach is taken out of the load balancer (Kubernetes readiness
probe, `GET /health/ready`) instead of failing the conversations sent to it."""

from __future__ import annotations

import asyncio

from parley.security.redaction import redact

PROBE_CONVERSATION = "__parley_readiness_probe__"  # read and locked, never written
PROBE_TIMEOUT_SECONDS = 2.0


async def unreachable_store(agent: object, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when the agent's tracker store answers a read and its lock store a lock within
    `timeout`; otherwise which store failed and how."""
    tracker_store = getattr(agent, "tracker_store", None)
    lock_store = getattr(agent, "lock_store", None)
    if tracker_store is not None:
        try:
            await asyncio.wait_for(tracker_store.load(PROBE_CONVERSATION), timeout)
        except Exception as exc:  # any failure: this replica cannot serve a turn now
            return f"the tracker store is not reachable: {_reason(exc)}"
    if lock_store is not None:
        try:
            async with asyncio.timeout(timeout), lock_store.lock(PROBE_CONVERSATION):
                pass
        except Exception as exc:
            return f"the lock store is not reachable: {_reason(exc)}"
    return None


def _reason(exc: BaseException) -> str:
    return redact(str(exc) or type(exc).__name__)  # a driver's message may hold a DSN
