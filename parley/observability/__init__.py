"""Operations: OpenTelemetry tracing of turns and PII redaction of logs, events and spans."""

from __future__ import annotations

from parley.observability.pii import PIIConfig, PIIConfigError, PIIRule, Redactor
from parley.observability.tracing import (
    TRACE_ID_KEY,
    Tracing,
    TracingConfig,
    TracingConfigError,
    build_tracing,
)

__all__ = [
    "TRACE_ID_KEY",
    "PIIConfig",
    "PIIConfigError",
    "PIIRule",
    "Redactor",
    "Tracing",
    "TracingConfig",
    "TracingConfigError",
    "build_tracing",
]
