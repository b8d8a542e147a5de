"""Publish: ranked results and dead letters, each finishing its input message once delivered.

Thread-safe (the scoring thread publishes while the loop thread polls). An input offset counts as
finished only in the delivery callback of its output; a failed delivery is produced again, so an
offset never moves past an output that is not durable. Results are keyed by request_id, so a
redelivered query yields an equal, idempotent event.
"""

import logging
import time
from collections import deque
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer

from schemas import DeadLetter, DeadLetterReason, RankedResults
from schemas.dead_letters import bounded_error
from worker.commit import OffsetTracker
from worker.telemetry import Metrics

log = logging.getLogger(__name__)

# How long produce() may wait for room in librdkafka's queue before trying again.
QUEUE_FULL_WAIT_S = 0.1


@dataclass(frozen=True)
class Source:
    """Where a consumed message came from, and its raw bytes (kept for the dead-letter copy)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    received_at: float  # time.monotonic() when consumed

    @classmethod
    def of(cls, message: Message) -> "Source":
        return cls(
            message.topic(), message.partition(), message.offset(), message.key(), message.value(), time.monotonic()
        )


@dataclass(frozen=True)
class _Outgoing:
    source: Source
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None


class Publisher:
    def __init__(
        self,
        producer: Producer,
        tracker: OffsetTracker,
        metrics: Metrics,
        results_topic: str,
        dlq_topic: str,
        worker_id: str,
    ) -> None:
        self.producer = producer
        self.tracker = tracker
        self.metrics = metrics
        self.results_topic = results_topic
        self.dlq_topic = dlq_topic
        self.worker_id = worker_id
        self._failed: deque[_Outgoing] = deque()

    def result(self, source: Source, results: RankedResults) -> None:
        value = results.model_dump_json().encode()
        self._produce(_Outgoing(source, self.results_topic, results.request_id.encode(), value, None))

    def dead_letter(self, source: Source, reason: DeadLetterReason, error: str) -> None:
        letter = DeadLetter(
            reason=reason,
            error=bounded_error(error),
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            worker=self.worker_id,
        )
        log.warning(
            "dead-lettering %s[%d]@%d: %s: %s",
            source.topic,
            source.partition,
            source.offset,
            reason,
            letter.error[:200],
        )
        self.metrics.dead_letters.add(1, {"reason": reason, "topic": source.topic})
        self._produce(_Outgoing(source, self.dlq_topic, source.key, source.value, letter.to_headers()))

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve delivery callbacks and re-produce what failed."""
        self.producer.poll(timeout_s)
        while self._failed:
            self._produce(self._failed.popleft())

    def flush(self, timeout_s: float) -> int:
        """Deliver everything queued; returns how many messages are still undelivered."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            if not self.producer.flush(min(1.0, max(0.0, deadline - time.monotonic()))) and not self._failed:
                return 0
        return len(self.producer) + len(self._failed)

    def close(self) -> None:
        """Release the producer (after `flush`): it stops reconnecting to a broker that went away."""
        self.producer.close()

    def _produce(self, out: _Outgoing) -> None:
        while True:
            try:
                self.producer.produce(
                    out.topic,
                    out.value,
                    out.key,
                    headers=out.headers,
                    on_delivery=lambda err, msg: self._delivered(err, msg, out),
                )
                return
            except BufferError:
                self.producer.poll(QUEUE_FULL_WAIT_S)

    def _delivered(self, err: KafkaError | None, _msg: Message, out: _Outgoing) -> None:
        if err is not None:
            log.error("delivery to %s failed (%s); producing again", out.topic, err)
            self._failed.append(out)
            return
        src = out.source
        self.tracker.finish(src.topic, src.partition, src.offset)
        if out.topic == self.results_topic:
            self.metrics.results.add(1)
            self.metrics.request_latency.record(time.monotonic() - src.received_at)
