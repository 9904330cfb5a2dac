"""Traces (OpenTelemetry) and structured logs (JSON lines with trace and span ids).

A trace crosses Kafka as a W3C `traceparent` carried in the event: the producer side takes
`current_traceparent()`, the consumer starts its span with `start_span(..., traceparent=...)`.
"""

import logging
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context, attach, detach, set_value
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

TRACER_NAME = "titp"
_propagator = TraceContextTextMapPropagator()


class _ExporterSlot(SpanProcessor):
    """The one span processor we add to the tracer provider; its exporter can be replaced.

    OpenTelemetry allows setting the global tracer provider once per process and has no way
    to remove a processor, so a `setup_telemetry` naming another exporter swaps it in here.
    """

    def __init__(self) -> None:
        self.exporter: str = "none"
        self.processor: SpanProcessor | None = None
        self.memory: InMemorySpanExporter | None = None

    def use(self, exporter: str) -> None:
        if exporter == self.exporter:
            return
        previous = self.processor
        self.memory = InMemorySpanExporter() if exporter == "memory" else None
        if self.memory is not None:
            self.processor = SimpleSpanProcessor(self.memory)
        elif exporter == "console":
            self.processor = BatchSpanProcessor(ConsoleSpanExporter())
        elif exporter == "otlp":
            self.processor = BatchSpanProcessor(OTLPSpanExporter())
        else:
            self.processor = None
        self.exporter = exporter
        if previous is not None:
            previous.shutdown()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.processor is not None:
            self.processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.processor is not None:
            self.processor.on_end(span)

    def shutdown(self) -> None:
        self.use("none")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.processor.force_flush(timeout_millis) if self.processor is not None else True


_exporter_slot = _ExporterSlot()
_tracer_provider: TracerProvider | None = None
# Requests nobody wants a trace of: the probes and the metrics scrape (FastAPIInstrumentor's excluded_urls).
UNTRACED_PATHS = "/healthz,/readyz,/metrics"
_UNTRACED = frozenset(UNTRACED_PATHS.split(","))


class _WhileExported(Sampler):
    """Records a span only while an exporter takes it, and then `ratio` of the traces (a child follows its parent).

    With the exporter `none` every span is a non-recording one: nothing is built and thrown away, yet each still has
    a context, so events keep carrying a `traceparent` (unsampled) that joins them up."""

    def __init__(self) -> None:
        self.chosen: Sampler = ParentBased(TraceIdRatioBased(1.0))

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if _exporter_slot.processor is None:
            return SamplingResult(Decision.DROP)
        return self.chosen.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"WhileExported({self.chosen.get_description()})"


_sampler = _WhileExported()


def sampler_for(settings: ServiceSettings) -> Sampler:
    """The sampler `otel_sampler` names (OTEL_TRACES_SAMPLER's values), with `otel_sample_ratio` for the ratio."""
    kind = settings.otel_sampler
    root = {"always_on": ALWAYS_ON, "always_off": ALWAYS_OFF}.get(kind.removeprefix("parentbased_"))
    chosen = root or TraceIdRatioBased(settings.otel_sample_ratio)
    return ParentBased(chosen) if kind.startswith("parentbased_") else chosen


def resource_for(settings: ServiceSettings) -> Resource:
    """What the spans say of their process: `service.name` from OTEL_SERVICE_NAME or TITP_OTEL_SERVICE_NAME, else one
    in OTEL_RESOURCE_ATTRIBUTES, else titp-<service>; with the other OTEL_RESOURCE_ATTRIBUTES."""
    if settings.otel_service_name:
        name = settings.otel_service_name
    else:
        name = str(OTELResourceDetector().detect().attributes.get(SERVICE_NAME) or f"titp-{settings.service}")
    return Resource.create({SERVICE_NAME: name})


def _provider_for(settings: ServiceSettings) -> TracerProvider:
    global _tracer_provider
    if _tracer_provider is None:
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            _tracer_provider = existing
        else:
            _tracer_provider = TracerProvider(resource=resource_for(settings), sampler=_sampler)
            trace.set_tracer_provider(_tracer_provider)
        _tracer_provider.add_span_processor(_exporter_slot)
    return _tracer_provider


def setup_telemetry(settings: ServiceSettings, app: "FastAPI | None" = None) -> InMemorySpanExporter | None:
    """Trace this process (and `app`, if given); returns the exporter when it is `memory`.

    Safe to call more than once: nothing is instrumented twice, and the exporter is kept
    (the same in-memory exporter is returned) unless another kind is asked for. The tracer
    provider, and with it the `service.name` resource, is set by the first call.
    """
    provider = _provider_for(settings)
    _exporter_slot.use(settings.otel_exporter)
    _sampler.chosen = sampler_for(settings)

    if app is not None and not getattr(app, "_is_instrumented_by_opentelemetry", False):
        if settings.otel_exporter == "none":
            if not getattr(app.state, "trace_context_only", False):
                app.state.trace_context_only = True
                app.add_middleware(RequestTraceContext)
        else:
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # the web edge's, not the core's

            # One server span per request: not the probes, and no span per ASGI message ("http send"/"http receive").
            FastAPIInstrumentor.instrument_app(
                app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"]
            )
            app.add_middleware(ProbesUntraced)
    # A span per query and per Kafka send only once something is exported: until then their wrappers would build
    # non-recording spans for nothing (the events carry the request's traceparent themselves).
    if settings.otel_exporter != "none":
        for instrumentor in (AsyncPGInstrumentor(), AIOKafkaInstrumentor()):
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(tracer_provider=provider)
    return _exporter_slot.memory


class RequestTraceContext:
    """A service app's tracing while nothing is exported: each request (not the probes) gets a span of its own, a
    non-recording one continuing the caller's `traceparent` or starting a trace, so its events and logs carry trace
    ids as ever; without FastAPIInstrumentor's middleware, which reads the route, the headers and a dozen attributes
    of every request for a span nobody records. With an exporter set at start-up the app is instrumented instead."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in _UNTRACED:
            await self.app(scope, receive, send)
            return
        traceparent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), None)
        with start_span(f"{scope['method']} {scope['path']}", traceparent=traceparent, kind=SpanKind.SERVER):
            await self.app(scope, receive, send)


class ProbesUntraced:
    """While spans are exported: the probes' and the scrape's own work (/readyz's queries) makes no span either; without
    it each query of a probe would start a trace of its own, a probe's every few seconds."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in _UNTRACED:
            await self.app(scope, receive, send)
            return
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            await self.app(scope, receive, send)
        finally:
            detach(token)


# FastAPI's own OpenTelemetry (`FastAPI(telemetry=...)`, on by default once a tracer provider is set, as here): a span
# for each dependency, the endpoint and the serialization of every request, its own request metrics and log records.
# The services trace with the middleware above or FastAPIInstrumentor and count with shared/web/metrics.py: off.
FASTAPI_TELEMETRY_OFF: dict[str, Any] = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, or None outside any recorded trace."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Context:
    """A context whose parent is the span `traceparent` names; an empty one (a new trace) if
    it is missing or malformed."""
    if not traceparent:
        return Context()
    return _propagator.extract({"traceparent": traceparent}, context=Context())


@contextmanager
def start_span(
    name: str,
    traceparent: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[trace.Span]:
    """A current span named `name`: a child of `traceparent` if given, else of the current span."""
    context = context_from_traceparent(traceparent) if traceparent is not None else None
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as span:
        yield span


# Not written out: the record's own attributes, and uvicorn's `color_message` (its message with ANSI colour codes).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # a colour (SGR) or another CSI sequence


def _plain(text: str) -> str:
    return _ANSI.sub("", text) if "\x1b" in text else text


def _trace_ids() -> tuple[str | None, str | None]:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service, trace and span ids, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = _trace_ids()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _plain(record.getMessage()),
            "service": self.service,
            "trace_id": trace_id,
            "span_id": span_id,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = _plain(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class TextLogFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(service)s trace=%(trace_id)s] %(message)s")
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        record.service = self.service
        record.trace_id = _trace_ids()[0] or "-"
        return super().format(record)


class _TitpHandler(logging.StreamHandler):
    """Marks the handler `setup_logging` installs, so a second call replaces it."""


class LogSettings(Protocol):
    """What the logs need of an app's settings: a service's (ServiceSettings) or the console's (ConsoleSettings)."""

    @property
    def service(self) -> str: ...
    @property
    def log_json(self) -> bool: ...
    @property
    def log_level(self) -> str: ...


def setup_logging(settings: LogSettings) -> None:
    """Send every log record of the process to stderr, as JSON lines unless `log_json` is off."""
    handler = _TitpHandler(sys.stderr)
    formatter = JsonLogFormatter if settings.log_json else TextLogFormatter
    handler.setFormatter(formatter(settings.service))
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _TitpHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn installs its own handlers; route its records through ours instead.
    # aiokafka logs "Authenticated as <user> via SCRAM-SHA-512" at INFO for every connection it opens.
    logging.getLogger("aiokafka.conn").setLevel(max(logging.WARNING, logging.getLogger().level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # uvicorn turns its access log off (--no-access-log, access_log=False) by leaving the logger without a handler
        # and not propagating; an app made after that (`uvicorn --factory`) must not turn it back on.
        turned_off = name == "uvicorn.access" and not logger.propagate and not logger.handlers
        logger.handlers.clear()
        logger.propagate = not turned_off
