"""Publish: ranked results and dead letters, each finishing its input message once delivered.

Thread-safe (the scoring thread publishes while the loop thread polls). An input offset counts as
finished only in the delivery callback of its output; a failed delivery is produced again, so an
offset never moves past an output that is not durable. Results are keyed by request_id, so a
redelivered query yields an equal, idempotent event.

An output the broker can never take (larger than `message.max.bytes`, raised by produce() or
reported on delivery) is not retried, since it would fail forever and stall its partition:
  1. a result is replaced by a dead letter of its query (`processing_failed`);
  2. a dead letter is produced again truncated (key and value cut; header `rankstream.dlq.truncated`
     holds the original value's size);
  3. a truncated dead letter that still cannot be produced is logged, counted and finished, so the
     offset moves on.
Any other error raised by produce() is retried at the next `poll()`; nothing here raises to the caller.

Tracing (`worker.tracing`): each output has a `send` span, child of its input's `process` span, whose
context its headers carry (`traceparent`); on delivery both spans end, the input's outcome being durable.
"""

import logging
import time
from collections import deque
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from opentelemetry import trace
from opentelemetry.trace import Span

from schemas import DeadLetter, DeadLetterReason, RankedResults
from schemas.dead_letters import bounded_error
from worker.commit import OffsetTracker
from worker.kafka import Source
from worker.telemetry import Metrics
from worker.tracing import NO_TRACING, Tracing, failed

log = logging.getLogger(__name__)

# How long produce() may wait for room in librdkafka's queue before trying again.
QUEUE_FULL_WAIT_S = 0.1
# A truncated dead letter keeps this much of the key and value: enough to identify the message, and
# far below any broker's message.max.bytes.
TRUNCATED_KEY_BYTES = 1024
TRUNCATED_VALUE_BYTES = 64 * 1024
TRUNCATED_HEADER = "rankstream.dlq.truncated"
# Errors that no retry can fix: the message is too large for the producer or the broker.
TOO_LARGE = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_MSG_SIZE, KafkaError.RECORD_LIST_TOO_LARGE})


@dataclass(frozen=True)
class _Outgoing:
    source: Source
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None
    span: Span  # its `send` span, ended on delivery

    @property
    def truncated(self) -> bool:
        return any(name == TRUNCATED_HEADER for name, _ in self.headers or [])

    def cut(self) -> "_Outgoing":
        """This dead letter with its key and value cut, saying so in a header."""
        size = len(self.value or b"")
        key = self.key[:TRUNCATED_KEY_BYTES] if self.key else self.key
        value = self.value[:TRUNCATED_VALUE_BYTES] if self.value else self.value
        headers = [*(self.headers or []), (TRUNCATED_HEADER, str(size).encode())]
        return _Outgoing(self.source, self.topic, key, value, headers, self.span)


class Publisher:
    def __init__(
        self,
        producer: Producer,
        tracker: OffsetTracker,
        metrics: Metrics,
        results_topic: str,
        dlq_topic: str,
        worker_id: str,
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self.producer = producer
        self.tracing = tracing
        self.tracker = tracker
        self.metrics = metrics
        self.results_topic = results_topic
        self.dlq_topic = dlq_topic
        self.worker_id = worker_id
        self._failed: deque[_Outgoing] = deque()

    def result(self, source: Source, results: RankedResults) -> None:
        key = results.request_id.encode()
        span, headers = self.tracing.send(source.span, self.results_topic, key, None)
        value = results.model_dump_json().encode()
        self._produce(_Outgoing(source, self.results_topic, key, value, headers or None, span))

    def dead_letter(self, source: Source, reason: DeadLetterReason, error: str) -> None:
        letter = DeadLetter(
            reason=reason,
            error=bounded_error(error),
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            worker=self.worker_id,
        )
        with trace.use_span(source.span, end_on_exit=False):  # the log line carries its trace id
            log.warning(
                "dead-lettering %s[%d]@%d: %s: %s",
                source.topic,
                source.partition,
                source.offset,
                reason,
                letter.error[:200],
            )
        self.metrics.dead_letters.add(1, {"reason": reason, "topic": source.topic})
        span, headers = self.tracing.send(source.span, self.dlq_topic, source.key, letter.to_headers())
        span.set_attribute("rankstream.dlq.reason", reason)
        self._produce(_Outgoing(source, self.dlq_topic, source.key, source.value, headers, span))

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve delivery callbacks and re-produce what failed (once each per call)."""
        self.producer.poll(timeout_s)
        for _ in range(len(self._failed)):
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
            except KafkaException as exc:
                self._failed_with(out, exc.args[0])
                return

    def _delivered(self, err: KafkaError | None, msg: Message, out: _Outgoing) -> None:
        if err is not None:
            self._failed_with(out, err)
            return
        src = out.source
        self.tracker.finish(src.topic, src.partition, src.offset)
        out.span.set_attributes(
            {"messaging.destination.partition.id": str(msg.partition()), "messaging.kafka.offset": msg.offset()}
        )
        out.span.end()
        src.span.end()
        if out.topic == self.results_topic:
            self.metrics.results.add(1)
            self.metrics.request_latency.record(time.monotonic() - src.received_at)
            # A producer whose clock runs ahead would give a negative age: counted as 0.
            self.metrics.end_to_end.record(max(0.0, time.time() - src.timestamp.timestamp()))

    def _failed_with(self, out: _Outgoing, err: KafkaError) -> None:
        """Retry what may succeed later; give what never can its fallback (the module's steps)."""
        if err.code() not in TOO_LARGE:
            log.error("producing to %s failed (%s); producing again", out.topic, err)
            self._failed.append(out)
        elif out.topic == self.results_topic:
            failed(out.span, err.str())
            self.dead_letter(out.source, "processing_failed", f"the result could not be published: {err.str()}")
        elif not out.truncated:
            log.error("dead letter for %s too large (%s); producing it truncated", out.source.topic, err)
            self._produce(out.cut())
        else:
            src = out.source
            log.error("dropping dead letter of %s[%d]@%d: %s", src.topic, src.partition, src.offset, err)
            self.metrics.dead_letters_dropped.add(1, {"topic": src.topic})
            self.tracker.finish(src.topic, src.partition, src.offset)
            failed(out.span, err.str())
            failed(src.span, f"dead letter dropped: {err.str()}")
