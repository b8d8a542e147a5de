"""The one Kafka wrapper: client configs built from Settings, plus topic creation.

Every client gets `bootstrap.servers`, the pass-through options (security.protocol, sasl.*,
ssl.*, ...) and `worker.logs.kafka_log()` as librdkafka's logger (rate-limited, never raw stderr).
Consumers never auto-commit: offsets are committed by `worker.commit` only after a message's outcome
is delivered; they report librdkafka's statistics (JSON) to `on_stats` every `STATS_INTERVAL_MS`.
Producers are idempotent with acks=all. `make_offsets_reader` makes a consumer that never subscribes
(it joins no group and commits nothing), only asked for a topic's partitions and watermarks
(`watermarks`): where a log starts and ends, for the postings table's progress (`worker.table`).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from opentelemetry.trace import INVALID_SPAN, Span

from worker.logs import kafka_log
from worker.settings import Settings

RebalanceCallback = Callable[[Consumer, list[TopicPartition]], None]
CommitCallback = Callable[[KafkaError | None, list[TopicPartition]], None]
StatsCallback = Callable[[str], None]

# Producer batching: a few ms of linger groups a batch's results into one request per partition.
PRODUCER_LINGER_MS = 5
# Consumer statistics (lag per partition, `worker.lag`): a third of Prometheus' default 15 s scrape
# interval, so each scrape sees a fresh figure; parsing one costs well under a millisecond.
STATS_INTERVAL_MS = 5000


@dataclass(frozen=True)
class Source:
    """Where a consumed message came from, its raw bytes (kept for the dead-letter copy) and headers,
    and the span of its processing (ended when its outcome is durable)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    received_at: float  # time.monotonic() when consumed
    timestamp: datetime  # the message's Kafka timestamp (when consumed, if it carries none)
    headers: tuple[tuple[str, bytes], ...] = ()
    span: Span = field(default=INVALID_SPAN, compare=False)  # its processing (`worker.tracing`)

    @classmethod
    def of(cls, message: Message) -> "Source":
        kind, millis = message.timestamp()
        when = datetime.fromtimestamp(millis / 1e3 if kind != TIMESTAMP_NOT_AVAILABLE else time.time(), UTC)
        return cls(
            message.topic(),
            message.partition(),
            message.offset(),
            message.key(),
            message.value(),
            time.monotonic(),
            when,
            tuple(message.headers() or ()),
        )


class Sourced(Protocol):
    """Work that came from one consumed message (what a stage holds)."""

    @property
    def source(self) -> Source: ...


def client_config(settings: Settings) -> dict[str, object]:
    options = {key: secret.get_secret_value() for key, secret in settings.kafka_options.items()}
    return {"bootstrap.servers": settings.kafka_bootstrap_servers, "logger": kafka_log(), **options}


def make_consumer(
    settings: Settings,
    group: str,
    topics: list[str],
    on_assign: RebalanceCallback,
    on_revoke: RebalanceCallback,
    on_lost: RebalanceCallback,
    on_commit: CommitCallback,
    on_stats: StatsCallback,
) -> Consumer:
    static = {"group.instance.id": settings.group_instance_id} if settings.group_instance_id else {}
    consumer = Consumer(
        {
            **client_config(settings),
            "group.id": group,
            "client.id": settings.worker_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": settings.session_timeout_ms,
            "partition.assignment.strategy": settings.partition_assignment_strategy,
            # Bounded prefetch: backpressure pauses partitions, and little should sit in librdkafka.
            "queued.max.messages.kbytes": 16384,
            "on_commit": on_commit,
            "statistics.interval.ms": STATS_INTERVAL_MS,
            "stats_cb": on_stats,
            **static,
        }
    )
    consumer.subscribe(topics, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    return consumer


def make_offsets_reader(settings: Settings) -> Consumer:
    """A consumer only asked for watermarks: `group.id` is required by the client, never joined."""
    return Consumer(
        {**client_config(settings), "group.id": f"{settings.group_id}-offsets", "client.id": settings.worker_id}
    )


def watermarks(reader: Consumer, topic: str, timeout_s: float) -> dict[int, tuple[int, int]]:
    """Each partition of `topic`: (low, high) watermarks, asked of the broker (never the cache)."""
    partitions = reader.list_topics(topic, timeout=timeout_s).topics[topic].partitions
    return {
        p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s, cached=False)
        for p in sorted(partitions)
    }


def make_producer(settings: Settings) -> Producer:
    return Producer(
        {
            **client_config(settings),
            "client.id": settings.worker_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": PRODUCER_LINGER_MS,
        }
    )


def make_admin(settings: Settings) -> AdminClient:
    return AdminClient(client_config(settings))


def all_topics(settings: Settings) -> list[str]:
    return [settings.topic_postings, settings.topic_queries, settings.topic_results, settings.topic_dlq]


def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    """The postings topic is compacted: it keeps each job's latest event for good (a delete's until
    `delete.retention.ms`), so a wiped store can be rebuilt by replaying it (`worker.rebuild`)."""
    return {"cleanup.policy": "compact"} if topic == settings.topic_postings else {}


def ensure_topics(settings: Settings, timeout_s: float = 10.0) -> list[str]:
    """Create the four topics where missing (the postings topic compacted); return the names created."""
    admin = make_admin(settings)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [t for t in all_topics(settings) if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, settings.topic_partitions, 1, config=topic_config(settings, t)) for t in missing]
    )
    for future in futures.values():
        future.result(timeout_s)
    return missing
