"""The operations side of one server: PII redaction and tracing, built from endpoints.yml and
hooked into the stores, the action runner and the log records."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from parley.observability.pii import PIIConfig, Redactor
from parley.observability.redacting import redact_logs, redact_stores
from parley.observability.tracing import Tracing, TracingConfig, build_tracing
from parley.stores.persistence import Stores


@dataclass
class Operations:
    """`redactor` is None without a `pii:` section; `tracing` is off without `tracing:`."""

    redactor: Redactor | None = None
    tracing: Tracing = field(default_factory=Tracing.off)
    _stop_log_redaction: Callable[[], None] = lambda: None

    @classmethod
    def from_endpoints(cls, endpoints: Mapping[str, Any] | None) -> Operations:
        """Raises PIIConfigError / TracingConfigError naming the bad key."""
        pii = PIIConfig.from_endpoints(endpoints)
        tracing_config = TracingConfig.from_endpoints(endpoints)
        redactor = Redactor(pii) if pii.enabled else None
        redact_attributes = redactor.redact_text if redactor and pii.applies_to("tracing") else None
        tracing = build_tracing(tracing_config, redact_attributes)
        stop = redact_logs(redactor) if redactor is not None else (lambda: None)
        return cls(redactor, tracing, stop)

    def wrap_stores(self, stores: Stores) -> Stores:
        return redact_stores(stores, self.redactor) if self.redactor is not None else stores

    def trace_action_calls(self, runner: object) -> None:
        """Let an HTTP action runner send the W3C trace context of each action's span."""
        if self.tracing.enabled and hasattr(runner, "trace_headers"):
            runner.trace_headers = self.tracing.headers

    async def close(self) -> None:
        self._stop_log_redaction()
        await self.tracing.shutdown()
