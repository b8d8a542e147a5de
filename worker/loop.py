"""The consume loop: event in → validate → hand to a stage; publish outcomes; commit; backpressure.

One consumer, subscribed to the topics of the worker's role. The loop thread only polls, validates
and routes; stages do the slow work on their own threads, so poll() keeps being called while the
model runs. At most `max_inflight_requests` messages are in flight: partitions are paused at the
limit and resumed once at most half of it (never less than none) is in flight.

`run()`:
  1. subscribe; start the stages;
  2. until stop is requested: apply backpressure, consume and dispatch, serve delivery callbacks,
     commit (asynchronously, every `commit_interval_s`; a failed commit is offered again);
  3. drain once, bounded by `shutdown_timeout_s`: wait for every in-flight outcome, flush the
     producer, commit synchronously;
  4. close the consumer (its final revocation finds the work drained and does not wait again),
     stop the stages, close the producer. Exit code 0 only if the drain finished everything.

A revocation (`_on_revoke`), for the revoked partitions only:
  1. wait, bounded, for their in-flight outcomes; flush the producer; commit synchronously;
  2. drop their work still queued in a stage (its new owner reads it again);
  3. forget them: late outcomes no longer move offsets.
A lost partition (`_on_lost`: the group moved on without us) skips step 1: its work is dropped and
nothing is committed, since the coordinator would reject the commit.

With a `Rebuilder` (postings workers, `worker.rebuild`), an assigned postings partition starts where
the store's epoch has applied it to, and when the epoch changes (a wiped store, a rebuild on demand)
each postings partition drops its queued work and is sought back to its start (`_reposition`); the
end each consumed postings partition's last fetch reported goes to the rebuilder (`_note_ends`).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from opentelemetry import trace
from opentelemetry.metrics import Observation

from worker.commit import OffsetTracker, Partition
from worker.kafka import Source, Sourced, make_consumer
from worker.lag import ConsumerLag
from worker.logs import kafka_log
from worker.publish import Publisher
from worker.rebuild import Rebuilder
from worker.settings import Settings
from worker.telemetry import Telemetry
from worker.validate import Invalid, Validator

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 0.05  # short: delivery callbacks and commits are served between polls
DRAIN_POLL_S = 0.05

Event = TypeVar("Event")
Work = TypeVar("Work", bound=Sourced)


class Intake(Protocol[Work]):
    """Where the loop hands work: a `worker.stage.Stage`, or a `worker.gate.TableGate` in front of one."""

    name: str

    @property
    def healthy(self) -> bool: ...

    def start(self) -> None: ...

    def submit(self, item: Work) -> None: ...

    def discard(self, drop: Callable[[Work], bool]) -> None: ...

    def pending(self) -> int: ...

    def stop(self, timeout_s: float) -> None: ...


@dataclass(frozen=True)
class Route(Generic[Event, Work]):
    """What the loop does with a topic's messages: validate, then wrap and submit to a stage."""

    validate: Validator[Event]
    wrap: Callable[[Source, Event], Work]
    stage: Intake[Work]
    # After a message is dead-lettered: what else its route must know (the postings route moves its
    # partition's progress past it, in order, through its stage: `worker.context.PendingPosting`).
    rejected: Callable[[Source], None] | None = None


def _names(partitions: list[TopicPartition]) -> list[str]:
    return [f"{p.topic}[{p.partition}]" for p in partitions]


class ConsumeLoop:
    def __init__(
        self,
        settings: Settings,
        group: str,
        routes: dict[str, Route[Any, Any]],
        publisher: Publisher,
        tracker: OffsetTracker,
        telemetry: Telemetry,
        rebuilder: Rebuilder | None = None,
    ) -> None:
        self.settings = settings
        self.rebuilder = rebuilder
        self.group = group
        self.routes = routes
        self.publisher = publisher
        self.tracker = tracker
        self.telemetry = telemetry
        self.stop_requested = threading.Event()
        self.assignment: list[TopicPartition] = []
        self.paused = False
        self.heartbeat = time.monotonic()
        self._last_commit = 0.0
        self._drained_for_stop = False
        self.consumer: Consumer | None = None
        self.lag = ConsumerLag()
        telemetry.metrics.start_at_zero(routes)
        telemetry.gauges(
            "rankstream_consumer_lag",
            "Messages after the group's committed position, per owned partition",
            lambda: [Observation(n, {"topic": t, "partition": p}) for (t, p), n in self.lag.readings().items()],
        )
        telemetry.gauge("rankstream_in_flight", "Messages consumed and not yet finished", tracker.in_flight)
        telemetry.gauge(
            "rankstream_paused", "1 while partitions are paused for backpressure", lambda: float(self.paused)
        )
        for topic, route in routes.items():
            telemetry.gauge(
                f"rankstream_stage_{route.stage.name}_pending",
                f"Items waiting in stage for {topic}",
                route.stage.pending,
            )

    def run(self) -> int:
        """Consume until stop is requested; returns the process exit code (steps in the module docstring)."""
        self.consumer = make_consumer(
            self.settings,
            self.group,
            list(self.routes),
            self._on_assign,
            self._on_revoke,
            self._on_lost,
            self._on_commit,
            self.lag.update,
        )
        for route in self.routes.values():
            route.stage.start()
        try:
            while not self.stop_requested.is_set():
                self.heartbeat = time.monotonic()
                self._backpressure()
                self._reposition()
                messages = self.consumer.consume(self._room(), POLL_TIMEOUT_S)
                for message in messages:
                    self._dispatch(message)
                self._note_ends(messages)
                self.publisher.poll()
                self._commit(synchronous=False)
            drained = self._drain(None)
            self._drained_for_stop = True
        finally:
            self.consumer.close()
            for route in self.routes.values():
                route.stage.stop(timeout_s=1.0)
            self.publisher.close()
        return 0 if drained else 1

    def _dispatch(self, message: Message) -> None:
        if message.error():
            if message.error().code() != KafkaError._PARTITION_EOF:
                kafka_log().error("consumer error: %s", message.error())
            return
        source = self.telemetry.tracing.process(Source.of(message))
        self.tracker.start(source.topic, source.partition, source.offset)
        self.telemetry.metrics.consumed.add(1, {"topic": source.topic})
        route = self.routes[source.topic]
        with trace.use_span(source.span, end_on_exit=False):  # log lines here carry its trace id
            event = route.validate(source.value)
            if isinstance(event, Invalid):
                self.publisher.dead_letter(source, event.reason, event.error)
                if route.rejected is not None:
                    route.rejected(source)
            else:
                route.stage.submit(route.wrap(source, event))

    def _room(self) -> int:
        """How many messages to take now: never more than the in-flight limit leaves room for."""
        room = self.settings.max_inflight_requests - self.tracker.in_flight()
        return max(1, min(self.settings.consume_batch, room))  # while paused, consume() returns nothing

    def _backpressure(self) -> None:
        in_flight = self.tracker.in_flight()
        limit = self.settings.max_inflight_requests
        if not self.paused and in_flight >= limit and self.assignment:
            self.consumer.pause(self.assignment)
            self.paused = True
            log.info("paused %d partitions: %d messages in flight", len(self.assignment), in_flight)
        elif self.paused and in_flight <= limit // 2:
            self.consumer.resume(self.assignment)
            self.paused = False

    def _commit(self, synchronous: bool, partitions: set[Partition] | None = None) -> None:
        now = time.monotonic()
        if not synchronous and now - self._last_commit < self.settings.commit_interval_s:
            return
        self._last_commit = now
        offsets = self.tracker.committable(everything=synchronous, partitions=partitions)
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=not synchronous)
            except KafkaException as exc:
                log.warning("commit failed (offered again at the next commit): %s", exc)
                self.tracker.rewind(offsets)

    def _on_commit(self, err: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """Outcome of an asynchronous commit: failed positions are offered again."""
        failed = partitions if err is not None else [tp for tp in partitions if tp.error is not None]
        if failed and (err is None or err.code() != KafkaError._NO_OFFSET):
            log.warning("commit of %s failed: %s", _names(failed), err or failed[0].error)
            self.tracker.rewind(failed)

    def _drain(self, partitions: set[Partition] | None) -> bool:
        """Wait (bounded) for the in-flight outcomes of `partitions` (None: all), deliver, commit.

        True if all finished.
        """
        deadline = time.monotonic() + self.settings.shutdown_timeout_s
        while self.tracker.in_flight(partitions) and time.monotonic() < deadline:
            self.publisher.poll(DRAIN_POLL_S)
        undelivered = self.publisher.flush(max(0.0, deadline - time.monotonic()))
        self._commit(synchronous=True, partitions=partitions)
        left = self.tracker.in_flight(partitions)
        if left or undelivered:
            log.error("drain timed out: %d messages unfinished, %d undelivered", left, undelivered)
        return not left and not undelivered

    def _note_ends(self, messages: list[Message]) -> None:
        """Tell the rebuilder each consumed postings partition's end, from the consumer's last fetch."""
        if self.rebuilder is None or self.consumer is None:
            return
        topic = self.rebuilder.topic
        for partition in {m.partition() for m in messages if m.topic() == topic and not m.error()}:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            self.rebuilder.saw_end(partition, high)

    def _reposition(self) -> None:
        """Seek postings partitions the rebuilder names back to their start in the store's epoch."""
        if self.rebuilder is None or self.consumer is None:
            return
        for tp in self.rebuilder.due(self.assignment):
            self._drop({(tp.topic, tp.partition)})
            try:
                self.consumer.seek(tp)
            except KafkaException as exc:
                log.warning("%s not sought to its start yet (tried again): %s", _names([tp])[0], exc)
                continue
            self.rebuilder.positioned(tp.partition)
            log.info("%s restarts at %s for the store's epoch %s", _names([tp])[0], tp.offset, self.rebuilder.epoch)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.rebuilder is not None:
            self.rebuilder.start_positions(partitions)
        log.info("assigned %s", _names(partitions))
        if self.paused and self.assignment:  # an incremental assignment keeps paused partitions:
            consumer.resume(self.assignment)  # resume them all; backpressure pauses all again if due
        self.paused = False
        self.assignment = [*self.assignment, *partitions]

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        gone = {(p.topic, p.partition) for p in partitions}
        if not self._drained_for_stop:
            log.info("revoking %s: draining their in-flight work", _names(partitions))
            self._drain(gone)
        self._let_go(gone)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("lost %s: dropping their queued work, committing nothing", _names(partitions))
        self._let_go({(p.topic, p.partition) for p in partitions})

    def _let_go(self, gone: set[Partition]) -> None:
        self._drop(gone)
        self.assignment = [p for p in self.assignment if (p.topic, p.partition) not in gone]

    def _drop(self, gone: set[Partition]) -> None:
        """Drop the partitions' queued work and forget their offsets (late outcomes move nothing)."""

        def drop(work: Sourced) -> bool:
            return (work.source.topic, work.source.partition) in gone

        for route in self.routes.values():
            route.stage.discard(drop)
        self.tracker.forget([TopicPartition(topic, partition) for topic, partition in gone])
