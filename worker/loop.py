"""The consume loop: event in → validate → hand to a stage; publish outcomes; commit; backpressure.

One consumer, subscribed to the topics of the worker's role. The loop thread only polls, validates
and routes; stages do the slow work on their own threads, so poll() keeps being called while the
model runs. At most `max_inflight_requests` messages are in flight: partitions are paused at the
limit and resumed below half of it.
On revocation and on shutdown the loop drains: waits for in-flight outcomes, then commits synchronously.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from worker.commit import OffsetTracker
from worker.kafka import make_consumer
from worker.publish import Publisher, Source
from worker.settings import Settings
from worker.stage import Stage
from worker.telemetry import Telemetry
from worker.validate import Invalid, Validator

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 0.05  # short: delivery callbacks and commits are served between polls
DRAIN_POLL_S = 0.05


@dataclass(frozen=True)
class Route:
    """What the loop does with a topic's messages: validate, then wrap and submit to a stage."""

    validate: Validator[Any]
    wrap: Callable[[Source, Any], Any]
    stage: Stage[Any]


class ConsumeLoop:
    def __init__(
        self,
        settings: Settings,
        routes: dict[str, Route],
        publisher: Publisher,
        tracker: OffsetTracker,
        telemetry: Telemetry,
    ) -> None:
        self.settings = settings
        self.routes = routes
        self.publisher = publisher
        self.tracker = tracker
        self.telemetry = telemetry
        self.stop_requested = threading.Event()
        self.assignment: list[TopicPartition] = []
        self.paused = False
        self.heartbeat = time.monotonic()
        self._last_commit = 0.0
        self.consumer: Consumer | None = None
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
        """Consume until stop is requested; returns the process exit code."""
        self.consumer = make_consumer(self.settings, list(self.routes), self._on_assign, self._on_revoke)
        for route in self.routes.values():
            route.stage.start()
        try:
            while not self.stop_requested.is_set():
                self.heartbeat = time.monotonic()
                self._backpressure()
                for message in self.consumer.consume(self._room(), POLL_TIMEOUT_S):
                    self._dispatch(message)
                self.publisher.poll()
                self._commit(synchronous=False)
            drained = self._drain()
        finally:
            self.consumer.close()
            for route in self.routes.values():
                route.stage.stop(timeout_s=1.0)
            self.publisher.close()
        return 0 if drained else 1

    def _dispatch(self, message: Message) -> None:
        if message.error():
            if message.error().code() != KafkaError._PARTITION_EOF:
                log.error("consumer error: %s", message.error())
            return
        source = Source.of(message)
        self.tracker.start(source.topic, source.partition, source.offset)
        self.telemetry.metrics.consumed.add(1, {"topic": source.topic})
        route = self.routes[source.topic]
        event = route.validate(source.value)
        if isinstance(event, Invalid):
            self.publisher.dead_letter(source, event.reason, event.error)
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
        elif self.paused and in_flight < limit // 2:
            self.consumer.resume(self.assignment)
            self.paused = False

    def _commit(self, synchronous: bool) -> None:
        now = time.monotonic()
        if not synchronous and now - self._last_commit < self.settings.commit_interval_s:
            return
        self._last_commit = now
        offsets = self.tracker.committable(everything=synchronous)
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=not synchronous)
            except Exception as exc:  # a failed commit is retried at the next interval or drain
                log.warning("commit failed: %s", exc)

    def _drain(self) -> bool:
        """Wait (bounded) for every in-flight message's outcome, deliver, commit. True if all finished."""
        deadline = time.monotonic() + self.settings.shutdown_timeout_s
        while self.tracker.in_flight() and time.monotonic() < deadline:
            self.publisher.poll(DRAIN_POLL_S)
        undelivered = self.publisher.flush(max(0.0, deadline - time.monotonic()))
        self._commit(synchronous=True)
        left = self.tracker.in_flight()
        if left or undelivered:
            log.error("drain timed out: %d messages unfinished, %d undelivered", left, undelivered)
        return not left and not undelivered

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", [f"{p.topic}[{p.partition}]" for p in partitions])
        self.assignment = list(partitions)
        self.paused = False

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("revoking %s: draining in-flight work", [f"{p.topic}[{p.partition}]" for p in partitions])
        self._drain()
        self.tracker.forget(partitions)
        self.assignment = [
            p for p in self.assignment if (p.topic, p.partition) not in {(r.topic, r.partition) for r in partitions}
        ]
