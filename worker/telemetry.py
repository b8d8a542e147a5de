"""OpenTelemetry metrics, measured at the queue boundaries of the worker.

Metrics go to a Prometheus registry of this worker's own (served at /metrics by `worker.health`).
Nothing here is global: each Telemetry owns its provider, so tests can make many. Ignores traces.
"""

from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Meter, NoOpMeter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from worker.settings import Settings

# Latency buckets (seconds) spanning a cached-context forward pass (~10 ms) to a stalled one (10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    consumed: Counter  # messages taken from Kafka, by topic
    dead_letters: Counter  # by reason and source topic
    dead_letters_dropped: Counter  # dead letters the broker refused even truncated, by source topic
    results: Counter  # ranked results delivered
    contexts: Counter  # posting outcomes: written, unchanged, stale, deleted
    items_scored: Counter
    deadline_answers: Counter  # answers that missed the model's ranking: degraded, or late
    request_latency: Histogram  # consumed -> result delivered
    queue_wait: Histogram  # enqueued for scoring -> its batch starts
    forward_seconds: Histogram  # one engine call
    batch_requests: Histogram
    batch_tokens: Histogram

    @classmethod
    def create(cls, meter: Meter) -> "Metrics":
        seconds = {"unit": "s", "explicit_bucket_boundaries_advisory": LATENCY_BUCKETS}
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
            request_latency=meter.create_histogram(
                "rankstream_request_latency", **seconds, description="Query consumed to result delivered"
            ),
            queue_wait=meter.create_histogram(
                "rankstream_queue_wait", **seconds, description="Query waiting for its batch"
            ),
            forward_seconds=meter.create_histogram(
                "rankstream_forward", **seconds, description="One scoring engine call"
            ),
            batch_requests=meter.create_histogram("rankstream_batch_requests", description="Requests per batch"),
            batch_tokens=meter.create_histogram("rankstream_batch_tokens", description="Tokens per batch"),
        )

    @classmethod
    def noop(cls) -> "Metrics":
        return cls.create(NoOpMeter("rankstream"))


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        resource = Resource.create({"service.name": "rankstream", "service.instance.id": settings.worker_id})
        self.registry = CollectorRegistry()
        self._meters = MeterProvider(metric_readers=[PrometheusMetricReader(registry=self.registry)], resource=resource)
        self.meter = self._meters.get_meter("rankstream")
        self.metrics = Metrics.create(self.meter)

    def gauge(self, name: str, description: str, read: Callable[[], float]) -> None:
        """A value read at scrape time (queue depth, in-flight messages, paused partitions)."""

        def observe(_options: CallbackOptions) -> list[Observation]:
            return [Observation(read())]

        self.meter.create_observable_gauge(name, callbacks=[observe], description=description)

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._meters.shutdown()
