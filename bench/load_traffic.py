"""Queries in, results out, for `bench.load`: sends timed by the bench, answers timed by a reader thread.

`Traffic(settings, queries)` holds a producer to the queries topic and a reader of the results topic
(its own group, session.timeout.ms 6000, auto.offset.reset earliest; the constructor returns once it
has its partitions, so no answer waits for its join). Each query sent gets a fresh request id and
its send time (time.monotonic() at produce(), when its Kafka timestamp is taken); the reader keeps
each request's first answer (results are at least once) with its receive time and `degraded`.
Queries come from the given payloads in order, cycling.

`burst(phase, n)` sends n at once; `poisson(phase, rate, seconds, seed)` sends open loop at
exponential inter-arrival times (seeded, on an absolute schedule, so a late send never shifts the
next); `wait(phase, timeout_s)` waits for a phase's answers; `stats(phase)` measures it: sent,
answered, lost (not answered by then), degraded, results/s and items/s (first send to last answer),
P50/P95/P99 end to end in ms and, with a deadline, the share of sent answered within it + 100 ms.

Ignores what the results rank (only their keys and `degraded` are read).
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass

import numpy as np
from confluent_kafka import Consumer, Producer

from worker.kafka import client_config
from worker.settings import Settings

# An answer within the deadline + this counts as on time: the worker's deadline watcher, the publish
# and the reader's poll take some milliseconds (the allowance).
DEADLINE_SLACK_MS = 100
# The reader's poll: short, so an answer's receive time is late by at most this; a poll returns as
# soon as a message is there.
READ_POLL_S = 0.05
# The reader's fetches wait at most this long on the broker for new results (librdkafka's default,
# 500 ms, would add up to that much to a measured latency on a broker that holds a fetch to its end).
FETCH_WAIT_MS = 10
# The reader joins its group before any query is sent (a join takes ~3 s on Tansu): the answer to a
# query sent earlier would be read only after the join, and its latency would count the join.
JOIN_TIMEOUT_S = 30.0
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class Sent:
    phase: str
    at: float  # time.monotonic()
    items: int
    deadline_ms: int | None


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic()
    degraded: str | None


class Traffic:
    def __init__(self, settings: Settings, queries: list[dict]) -> None:
        self.topic = settings.topic_queries
        self.queries = queries
        self.sent: dict[str, Sent] = {}
        self.answers: dict[str, Answer] = {}
        self._count = 0
        # linger.ms 0: a query leaves at once, so its measured latency is the pipeline's, not the bench's.
        self.producer = Producer({**client_config(settings), "linger.ms": 0})
        self._reader = Consumer(
            {
                **client_config(settings),
                "group.id": f"load-bench-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "fetch.wait.max.ms": FETCH_WAIT_MS,
            }
        )
        self._assigned = threading.Event()
        self._reader.subscribe([settings.topic_results], on_assign=lambda *_: self._assigned.set())
        self._answered = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="results-reader", daemon=True)
        self._thread.start()
        if not self._assigned.wait(JOIN_TIMEOUT_S):
            self.close()
            raise TimeoutError(f"the results reader got no partitions in {JOIN_TIMEOUT_S} s")

    def _read(self) -> None:
        while not self._stop.is_set():
            message = self._reader.poll(READ_POLL_S)
            if message is None or message.error():
                continue
            answer = Answer(time.monotonic(), json.loads(message.value()).get("degraded"))
            with self._answered:
                self.answers.setdefault(message.key().decode(), answer)
                self._answered.notify_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._reader.close()
        self.producer.flush(10)

    def send(self, phase: str, deadline_ms: int | None = None) -> None:
        payload = self.queries[self._count % len(self.queries)]
        request_id = f"{phase}-{self._count}"
        self._count += 1
        value = {"request_id": request_id, **payload} | ({"deadline_ms": deadline_ms} if deadline_ms else {})
        raw = json.dumps(value).encode()
        at = time.monotonic()
        self.producer.produce(self.topic, raw, request_id.encode())
        self.sent[request_id] = Sent(phase, at, len(payload["candidate_job_ids"]), deadline_ms)
        self.producer.poll(0)

    def burst(self, phase: str, n: int) -> None:
        for _ in range(n):
            self.send(phase)
        self.producer.flush(30)

    def poisson(self, phase: str, rate: float, seconds: float, seed: int, deadline_ms: int | None = None) -> None:
        gaps = np.random.default_rng(seed).exponential(1 / rate, size=int(rate * seconds * 2) + 10)
        start = time.monotonic()
        for at in np.cumsum(gaps):
            if at >= seconds:
                break
            time.sleep(max(0.0, start + at - time.monotonic()))
            self.send(phase, deadline_ms)
        self.producer.flush(30)

    def _pending(self, phase: str) -> int:
        return sum(1 for rid, s in self.sent.items() if s.phase == phase and rid not in self.answers)

    def wait(self, phase: str, timeout_s: float) -> bool:
        """Wait until every query of the phase is answered; False if some are not by the timeout."""
        with self._answered:
            return self._answered.wait_for(lambda: self._pending(phase) == 0, timeout_s)

    def stats(self, phase: str) -> dict:
        sent = {rid: s for rid, s in self.sent.items() if s.phase == phase}
        with self._answered:
            answered = {rid: self.answers[rid] for rid in sent if rid in self.answers}
        latencies = np.array([1e3 * (a.at - sent[rid].at) for rid, a in answered.items()])
        first_sent = min((s.at for s in sent.values()), default=0.0)
        span = max((a.at for a in answered.values()), default=first_sent) - first_sent
        row = {
            "sent": len(sent),
            "answered": len(answered),
            "lost": len(sent) - len(answered),
            "degraded": sum(a.degraded is not None for a in answered.values()),
            "results_per_s": round(len(answered) / span, 3) if span > 0 else None,
            "items_per_s": round(sum(sent[rid].items for rid in answered) / span, 1) if span > 0 else None,
            **{f"p{p}_ms": round(float(np.percentile(latencies, p)), 1) if answered else None for p in PERCENTILES},
        }
        deadlines = {s.deadline_ms for s in sent.values()} - {None}
        if deadlines:
            (deadline_ms,) = deadlines
            row["deadline_ms"] = deadline_ms
            on_time = int(np.sum(latencies <= deadline_ms + DEADLINE_SLACK_MS))
            row["within_deadline"] = round(on_time / len(sent), 3)
        return row
