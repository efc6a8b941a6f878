"""OpenTelemetry spans for each turn: channel, lock, tracker load, NLU, policies, actions.

Off by default. A disabled `Tracing` hands out one shared no-op context manager, imports no
OpenTelemetry module and costs a function call per hook. When on (endpoints.yml `tracing:`),
spans go to an OTLP/HTTP collector (or the console) through a tracer provider of their own,
so Parley never touches the process-wide OpenTelemetry globals. Span attributes hold ids,
names and scores; the message text only with `include_text: true`, and every attribute value
passes through the PII redactor when one is configured for `tracing`.

    tracing:
      type: otlp                       # or console
      endpoint: http://collector:4318/v1/traces
      headers: {api-key: ${OTLP_KEY}}
      service_name: parley
      include_text: false
      sample_ratio: 1.0
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer
    from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")
logger = logging.getLogger(__name__)

TRACE_ID_KEY = "trace_id"  # in the metadata of the events a traced turn creates
_NO_SPAN: AbstractContextManager[Any] = nullcontext()
AttributeValue = str | bool | int | float | Sequence[str]


class TracingConfigError(ValueError):
    """endpoints.yml `tracing:` is not usable; the message names the key."""


@dataclass(frozen=True)
class TracingConfig:
    """Where spans go; `enabled` is False unless a `tracing:` section (or OTEL env) says so."""

    enabled: bool = False
    exporter: Literal["otlp", "console"] = "otlp"
    endpoint: str | None = None  # OTLP/HTTP traces URL; None: the exporter's env/default
    headers: Mapping[str, str] = field(default_factory=dict)
    service_name: str = "parley"
    include_text: bool = False
    sample_ratio: float = 1.0

    @classmethod
    def from_endpoints(cls, endpoints: Mapping[str, Any] | None) -> TracingConfig:
        """The `tracing:` section of endpoints.yml (absent or `type: none`: off)."""
        section = (endpoints or {}).get("tracing")
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise TracingConfigError("endpoints.yml: tracing: expected a mapping of settings")
        kind = str(section.get("type") or "otlp").lower()
        if kind in ("none", "off"):
            return cls()
        if kind not in ("otlp", "console"):
            raise TracingConfigError(
                f"endpoints.yml: tracing.type: {kind!r} is not known; use otlp, console or none"
            )
        headers = section.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise TracingConfigError("endpoints.yml: tracing.headers: expected a mapping")
        try:
            ratio = float(section.get("sample_ratio", 1.0))
        except (TypeError, ValueError):
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:
            raise TracingConfigError("endpoints.yml: tracing.sample_ratio: a number from 0 to 1")
        return cls(
            enabled=True,
            exporter="console" if kind == "console" else "otlp",
            endpoint=str(section["endpoint"]) if section.get("endpoint") else None,
            headers={str(k): str(v) for k, v in headers.items()},
            service_name=str(section.get("service_name") or "parley"),
            include_text=bool(section.get("include_text", False)),
            sample_ratio=ratio,
        )

    @classmethod
    def from_environment(
        cls, service_name: str, env: Mapping[str, str] | None = None
    ) -> TracingConfig:
        """On when the standard `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` is set (action server)."""
        env = os.environ if env is None else env
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not endpoint and base:
            endpoint = base.rstrip("/") + "/v1/traces"
        if not endpoint:
            return cls()
        return cls(
            enabled=True, endpoint=endpoint, service_name=env.get("OTEL_SERVICE_NAME", service_name)
        )


class Tracing:
    """The spans of one process: `span()` opens a child of the current span (no-op when off)."""

    def __init__(
        self,
        tracer: Tracer | None = None,
        *,
        include_text: bool = False,
        redact: Callable[[str], str] | None = None,
        provider: TracerProvider | None = None,
    ) -> None:
        self._tracer = tracer
        self.include_text = include_text
        self._redact = redact
        self._provider = provider

    @classmethod
    def off(cls) -> Tracing:
        return cls()

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(
        self, name: str, attributes: Mapping[str, AttributeValue | None] | None = None
    ) -> AbstractContextManager[Any]:
        """A context manager around a child span of the current one (None values dropped)."""
        if self._tracer is None:
            return _NO_SPAN
        return self._tracer.start_as_current_span(name, attributes=self._clean(attributes))

    def text(self, value: str | None) -> str | None:
        """The attribute value of a message text: None unless `include_text`, else redacted."""
        if value is None or not self.include_text:
            return None
        return self._redact(value) if self._redact else value

    def locked(
        self, lock: AbstractAsyncContextManager[T], attributes: Mapping[str, Any] | None = None
    ) -> AbstractAsyncContextManager[T]:
        """`lock` with a `parley.lock.wait` span for the time spent acquiring it; it gives what
        the lock gives (its fencing token)."""
        if self._tracer is None:
            return lock
        return self._locked(lock, attributes)

    @asynccontextmanager
    async def _locked(
        self, lock: AbstractAsyncContextManager[T], attributes: Mapping[str, Any] | None
    ) -> AsyncIterator[T]:
        with self.span("parley.lock.wait", attributes):
            token = await lock.__aenter__()
        try:
            yield token
        except BaseException as exc:
            if not await lock.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await lock.__aexit__(None, None, None)

    def trace_id(self) -> str | None:
        """The current trace id (32 hex digits), or None outside a recorded span."""
        if self._tracer is None:
            return None
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None

    def stamp(self, events: Sequence[Any]) -> None:
        """Write the current trace id on the events' metadata (links a trace to its turn)."""
        trace_id = self.trace_id()
        if trace_id is None:
            return
        for event in events:
            event.metadata.setdefault(TRACE_ID_KEY, trace_id)

    def headers(self) -> dict[str, str]:
        """W3C `traceparent` (and `tracestate`) of the current span, for an outgoing call."""
        if self._tracer is None:
            return {}
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        return carrier

    @contextmanager
    def continued(
        self,
        name: str,
        headers: Mapping[str, str],
        attributes: Mapping[str, AttributeValue | None] | None = None,
    ) -> Iterator[None]:
        """A span that continues the caller's trace from its W3C headers (action server)."""
        if self._tracer is None:
            yield
            return
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = TraceContextTextMapPropagator().extract({k.lower(): v for k, v in headers.items()})
        with self._tracer.start_as_current_span(
            name, context=parent, attributes=self._clean(attributes)
        ):
            yield

    async def shutdown(self) -> None:
        """Send the spans still buffered, then stop the exporter."""
        if self._provider is not None:
            self._provider.shutdown()

    def _clean(
        self, attributes: Mapping[str, AttributeValue | None] | None
    ) -> dict[str, AttributeValue] | None:
        if not attributes:
            return None
        redact = self._redact
        cleaned: dict[str, AttributeValue] = {}
        for key, value in attributes.items():
            if value is None:
                continue
            if redact is not None and isinstance(value, str):
                value = redact(value)
            cleaned[key] = value
        return cleaned


def build_tracing(
    config: TracingConfig,
    redact: Callable[[str], str] | None = None,
    exporter: SpanExporter | None = None,
) -> Tracing:
    """A `Tracing` for `config` (off when disabled). `exporter` replaces the configured one and
    is flushed span by span (tests use the SDK's in-memory exporter)."""
    if not config.enabled and exporter is None:
        return Tracing.off()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": config.service_name}),
        sampler=ParentBased(TraceIdRatioBased(config.sample_ratio)),
        shutdown_on_exit=True,
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(config)))
        logger.info(
            "Tracing on: spans go to %s (%s)", config.endpoint or "the default", config.exporter
        )
    from parley import __version__

    tracer = provider.get_tracer("parley", __version__)
    return Tracing(tracer, include_text=config.include_text, redact=redact, provider=provider)


def _exporter(config: TracingConfig) -> SpanExporter:
    if config.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(service_name=config.service_name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=config.endpoint, headers=dict(config.headers) or None)


class TraceContextMiddleware:
    """The channel's span: each HTTP request (webhooks, API) under a `parley.http` span that
    continues the caller's W3C trace context when the request carries one."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tracing.enabled:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        attributes = {"http.request.method": method, "url.path": path}
        with self.tracing.continued(f"{method} {path}", headers, attributes):
            await self.app(scope, receive, send)


def inject_headers(headers: MutableMapping[str, str], tracing: Tracing | None) -> None:
    """Add the current trace context to an outgoing request's headers (no-op when off)."""
    if tracing is not None and tracing.enabled:
        headers.update(tracing.headers())
