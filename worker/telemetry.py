"""OpenTelemetry metrics, measured at the queue boundaries of the worker (table: docs/metrics.md).

Metrics go to a Prometheus registry of this worker's own (served at /metrics by `worker.health`),
with the process's own (resident memory, CPU seconds, open files: prometheus_client's
ProcessCollector). `Metrics.start_at_zero(topics)` adds 0 to every counter series whose labels are
known up front (dead letters by reason and topic, ...), so rates and alerts see them before the first
event. Nothing here is global: each Telemetry owns its providers, so tests can make many. It holds
the worker's `Tracing` too (`worker.tracing`: spans, OTLP export) and shuts both down.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, NoOpMeter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest

from schemas import DeadLetterReason
from worker.settings import Settings
from worker.tracing import Tracing

# Latency buckets (seconds) spanning a cached-context forward pass (~10 ms) to a stalled one (10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# End to end (from the message's Kafka timestamp) also counts time queued in Kafka: minutes under lag.
END_TO_END_BUCKETS = (*LATENCY_BUCKETS, 30.0, 60.0, 300.0)
# Candidates per query: 1 to the contract's 1,000 (`schemas.limits`).
ITEMS_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)

ContextOutcome = Literal["written", "unchanged", "stale", "deleted"]
DeadlineOutcome = Literal["degraded", "late"]
# What became of a query at the table gate (`worker.gate`): let through once the postings table caught
# up to it, let through when its wait ran out (answered `table_behind`), or answered at its deadline.
TableWaitOutcome = Literal["caught_up", "timed_out", "deadline"]


@dataclass(frozen=True)
class Metrics:
    consumed: Counter  # messages taken from Kafka, by topic
    dead_letters: Counter  # by reason and source topic
    dead_letters_dropped: Counter  # dead letters the broker refused even truncated, by source topic
    results: Counter  # ranked results delivered
    contexts: Counter  # posting outcomes: written, unchanged, stale, deleted
    items_scored: Counter
    deadline_answers: Counter  # answers that missed the model's ranking: degraded, or late
    table_waits: Counter  # queries through the table gate, by outcome
    request_latency: Histogram  # consumed -> result delivered
    end_to_end: Histogram  # the input's Kafka timestamp -> result delivered
    queue_wait: Histogram  # enqueued for scoring -> its batch starts
    context_fetch: Histogram  # one query's contexts from Redis
    forward_seconds: Histogram  # one engine call (the model only)
    batch_requests: Histogram
    batch_tokens: Histogram
    request_items: Histogram  # candidates per query

    @classmethod
    def create(cls, meter: Meter) -> "Metrics":
        seconds = {"unit": "s", "explicit_bucket_boundaries_advisory": LATENCY_BUCKETS}
        end_to_end = {"unit": "s", "explicit_bucket_boundaries_advisory": END_TO_END_BUCKETS}
        return cls(
            consumed=meter.create_counter("rankstream_messages_consumed", description="Messages consumed"),
            dead_letters=meter.create_counter("rankstream_dead_letters", description="Messages dead-lettered"),
            dead_letters_dropped=meter.create_counter(
                "rankstream_dead_letters_dropped", description="Dead letters the broker refused even truncated"
            ),
            results=meter.create_counter("rankstream_results", description="Ranked results delivered"),
            contexts=meter.create_counter("rankstream_contexts", description="Posting events by outcome"),
            items_scored=meter.create_counter("rankstream_items_scored", description="Candidates scored"),
            deadline_answers=meter.create_counter(
                "rankstream_deadline_answers", description="Answers degraded before their deadline, or scored late"
            ),
            table_waits=meter.create_counter(
                "rankstream_table_waits", description="Queries through the table gate, by outcome"
            ),
            request_latency=meter.create_histogram(
                "rankstream_request_latency", **seconds, description="Query consumed to result delivered"
            ),
            end_to_end=meter.create_histogram(
                "rankstream_end_to_end_latency", **end_to_end, description="Query's Kafka timestamp to result delivered"
            ),
            queue_wait=meter.create_histogram(
                "rankstream_queue_wait", **seconds, description="Query waiting for its batch"
            ),
            context_fetch=meter.create_histogram(
                "rankstream_context_fetch", **seconds, description="One query's contexts read from Redis"
            ),
            forward_seconds=meter.create_histogram(
                "rankstream_forward", **seconds, description="One scoring engine call, the model alone"
            ),
            batch_requests=meter.create_histogram("rankstream_batch_requests", description="Requests per batch"),
            batch_tokens=meter.create_histogram("rankstream_batch_tokens", description="Tokens per batch"),
            request_items=meter.create_histogram(
                "rankstream_request_items",
                explicit_bucket_boundaries_advisory=ITEMS_BUCKETS,
                description="Candidates per query",
            ),
        )

    @classmethod
    def noop(cls) -> "Metrics":
        return cls.create(NoOpMeter("rankstream"))

    def start_at_zero(self, topics: Iterable[str]) -> None:
        """Every counter series whose labels are known, at 0: `topics` are the worker's input topics."""
        for topic in topics:
            self.consumed.add(0, {"topic": topic})
            self.dead_letters_dropped.add(0, {"topic": topic})
            for reason in get_args(DeadLetterReason):
                self.dead_letters.add(0, {"reason": reason, "topic": topic})
        for outcome in get_args(ContextOutcome):
            self.contexts.add(0, {"outcome": outcome})
        for answer in get_args(DeadlineOutcome):
            self.deadline_answers.add(0, {"outcome": answer})
        for outcome in get_args(TableWaitOutcome):
            self.table_waits.add(0, {"outcome": outcome})
        self.results.add(0)
        self.items_scored.add(0)


class Telemetry:
    def __init__(self, settings: Settings, group: str) -> None:
        resource = Resource.create({"service.name": "rankstream", "service.instance.id": settings.worker_id})
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self._meters = MeterProvider(metric_readers=[PrometheusMetricReader(registry=self.registry)], resource=resource)
        self.meter = self._meters.get_meter("rankstream")
        self.metrics = Metrics.create(self.meter)
        self.tracing = Tracing.create(settings, resource, group)  # the consumer group, for span attributes

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at scrape time (queue depth, in-flight messages, paused partitions)."""
        self.gauges(name, description, lambda: [Observation(read())])

    def gauges(self, name: str, description: str, read: Callable[[], Iterable[Observation]]) -> None:
        """Labelled values read at scrape time (one per partition, say)."""

        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return read()

        self.meter.create_observable_gauge(name, callbacks=[observe], description=description)

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._meters.shutdown()
        self.tracing.shutdown()
