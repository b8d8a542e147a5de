"""Traces across the Kafka hops, per OpenTelemetry's messaging conventions (the span table: docs/metrics.md).

A consumed message gets a `process <topic>` span (kind consumer) whose parent is the W3C trace
context of its headers (`traceparent`, `tracestate`), if any; its work adds children (`child`, `step`),
work shared by many messages one span linked to each message's span (`shared`), and each output
gets a `send <topic>` span (kind producer) whose context is written into the output's headers, so
the trace continues at the output's consumer. `wall_ns` dates a span from a time.monotonic()
reading taken before it existed (a query's wait for its batch).

`Tracing.create(settings, resource, group)` owns its provider (nothing global, like `worker.telemetry`):
- with `RANKSTREAM_OTLP_ENDPOINT`, spans go out in batches over OTLP (`http/protobuf` to
  `<endpoint>/v1/traces`, or `grpc`), sampling `RANKSTREAM_TRACE_SAMPLE_RATIO` of new traces and
  following the decision of continued ones;
- without, nothing is exported and no new trace is sampled, but spans still carry their parent's
  trace id and sampling flag, so an input's trace reaches its outputs' headers unbroken.
`NO_TRACING` (for parts built without a worker's settings) makes no spans: an input's context goes
on to its outputs unchanged, and an input without one gets outputs without one.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from worker.kafka import Source
from worker.settings import Settings

Headers = list[tuple[str, bytes]]
Links = Sequence[Link]
PROPAGATOR = TraceContextTextMapPropagator()
OTLP_HTTP_PATH = "/v1/traces"  # the OTLP/HTTP path for traces, below the receiver's base URL


class _HeaderGetter(Getter[Sequence[tuple[str, bytes]]]):
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        values = [value.decode("latin-1") for name, value in carrier if name.lower() == key and value is not None]
        return values or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [name for name, _ in carrier]


class _HeaderSetter(Setter[Headers]):
    def set(self, carrier: Headers, key: str, value: str) -> None:
        carrier.append((key, value.encode("latin-1")))


def wall_ns(monotonic_s: float) -> int:
    """A time.monotonic() reading as the wall-clock nanoseconds spans are stamped with."""
    return time.time_ns() - int((time.monotonic() - monotonic_s) * 1e9)


def _exporter(settings: Settings) -> SpanExporter:
    endpoint = (settings.otlp_endpoint or "").rstrip("/")
    if settings.otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter(endpoint=endpoint if endpoint.endswith(OTLP_HTTP_PATH) else endpoint + OTLP_HTTP_PATH)


def _key(key: bytes | None) -> dict[str, str]:
    return {} if key is None else {"messaging.kafka.message.key": key.decode("utf-8", "replace")}


class Tracing:
    def __init__(self, tracer: Tracer, group: str = "", processor: SpanProcessor | None = None) -> None:
        self.tracer = tracer
        self.group = group
        self._processor = processor

    @classmethod
    def create(cls, settings: Settings, resource: Resource, group: str) -> "Tracing":
        exporting = settings.otlp_endpoint is not None
        root = TraceIdRatioBased(settings.trace_sample_ratio) if exporting else ALWAYS_OFF
        provider = TracerProvider(resource=resource, sampler=ParentBased(root))
        processor = BatchSpanProcessor(_exporter(settings)) if exporting else None
        if processor is not None:
            provider.add_span_processor(processor)
        return cls(provider.get_tracer("rankstream"), group, processor)

    def process(self, source: Source) -> Source:
        """`source` with the span of its processing, which continues the trace of its headers."""
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.name": "process",
            "messaging.operation.type": "process",
            "messaging.destination.name": source.topic,
            "messaging.destination.partition.id": str(source.partition),
            "messaging.kafka.offset": source.offset,
            "messaging.consumer.group.name": self.group,
            **_key(source.key),
        }
        parent = PROPAGATOR.extract(source.headers, getter=_HeaderGetter())
        span = self.tracer.start_span(f"process {source.topic}", parent, SpanKind.CONSUMER, attributes)
        return replace(source, span=span)

    def child(
        self, parent: Span, name: str, attributes: Attributes = None, start_ns: int | None = None, links: Links = ()
    ) -> Span:
        context = trace.set_span_in_context(parent)
        return self.tracer.start_span(name, context, attributes=attributes, links=links, start_time=start_ns)

    def step(self, parent: Span, name: str, attributes: Attributes = None) -> AbstractContextManager[Span]:
        """A child of `parent` for a `with` block: ended at its end, marked failed by an exception."""
        return trace.use_span(self.child(parent, name, attributes), end_on_exit=True)

    @contextmanager
    def shared(self, name: str, parents: Sequence[Span], attributes: Attributes = None) -> Iterator[None]:
        """Work shared by many messages, for a `with` block: a `<name> batch` span of its own linked to
        each of `parents`, and a `<name>` child of each parent linked to it."""
        valid = [Link(p.get_span_context()) for p in parents if p.get_span_context().is_valid]
        batch = self.tracer.start_span(f"{name} batch", Context(), attributes=attributes, links=valid)
        links = [Link(batch.get_span_context())]
        with ExitStack() as spans:
            for span in [batch, *(self.child(p, name, attributes, links=links) for p in parents)]:
                spans.enter_context(trace.use_span(span, end_on_exit=True))
            yield

    def send(self, parent: Span, topic: str, key: bytes | None, headers: Headers | None) -> tuple[Span, Headers]:
        """The span of an output (end it on delivery) and the output's headers, carrying its context."""
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.name": "send",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            **_key(key),
        }
        span = self.tracer.start_span(f"send {topic}", trace.set_span_in_context(parent), SpanKind.PRODUCER, attributes)
        carried = [(name, value) for name, value in headers or [] if name not in PROPAGATOR.fields]
        PROPAGATOR.inject(carried, trace.set_span_in_context(span), _HeaderSetter())
        return span, carried

    def shutdown(self) -> None:
        """Export what is still buffered (bounded by the exporter's timeout)."""
        if self._processor is not None:
            self._processor.shutdown()


def failed(span: Span, error: str) -> None:
    """End `span` marked as failed with `error`."""
    span.set_status(Status(StatusCode.ERROR, error))
    span.end()


NO_TRACING = Tracing(trace.NoOpTracer())
