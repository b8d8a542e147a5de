"""The system under fault for `bench.faults` and its tests: a broker, a Redis and several worker processes.

`FaultStack.up(model, home, worker_env)` is a context manager: Tansu and Redis on free ports
(`rankstream dev up`, the topics created), no worker yet (`worker_env`: more RANKSTREAM_* for the
workers and the services: `RANKSTREAM_REDIS_CLUSTER` makes Redis a local cluster); on leaving (an
error or an interrupt included) every worker still running is stopped (SIGTERM, SIGKILL after its
bounded drain) and the services with it (`dev down`).
Inside:
- `start(role)` starts a `rankstream-worker --role ROLE` (the tiny model's settings below), `kill(w)`
  sends it SIGKILL (`kill -9`), `leave(w)` SIGTERM; `crashes()` names every worker that exited
  without being told to, or exited non-zero after SIGTERM (a killed one is neither, nor one that
  SIGTERM ended while it was still importing: no handler, no consumer, nothing to drain yet);
- `produce(topic, key, value)` produces (with a delivery report, if given) and counts per topic;
  `committed(role, topic)` sums the role group's committed offsets, so `settled(role, topic)` says
  the group has finished all that was produced there;
- `stream(stack, messages, seconds, every_s, act)` produces messages evenly over time, with an act
  (a fault, a join, a leave) every `every_s`; `Acts(schedule)` is such an act, a list of faults in turn;
- `Reader(stack, topic)` reads a topic from its start, by assignment (no group join);
- `freeze_redis()` / `thaw_redis()` (SIGSTOP / SIGCONT of redis-server), `restart_redis_empty()`
  (SIGKILL, then a fresh empty one on the same port: the services keep nothing on disk).

Ignores what the workers compute (`bench.faults_answers` checks it) and their metrics.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition

from bench.load_stack import WORKER, stack_settings
from cli.dev import services
from worker.kafka import client_config
from worker.settings import Role, Settings

# Worker settings for many processes of the tiny model on a shared 2-core machine: one torch thread
# each (three workers would otherwise fight over the cores), float32 (the tiny model's dtype), commits
# every 0.2 s (a killed worker leaves little to redo), no health server (no port to hand out).
WORKER_ENV = {
    "RANKSTREAM_THREADS": "1",
    "RANKSTREAM_DTYPE": "float32",
    "RANKSTREAM_COMMIT_INTERVAL_S": "0.2",
    "RANKSTREAM_HTTP_PORT": "0",
}
Delivered = Callable[[KafkaError | None, Message], None]  # a producer's delivery report
RANKSTREAM = str(Path(sys.executable).parent / "rankstream")
# `dev up` waits up to 30 s for each service (`cli.dev.READY_TIMEOUT_S`), `dev down` 10 s: ample beyond both.
DEV_TIMEOUT_S = 120.0
# Past a worker's own bounded drain (`shutdown_timeout_s`), a stop kills it (and counts it as a crash).
STOP_MARGIN_S = 10.0
# What a worker logs once its signal handlers, model and consumer exist (`worker.service.run_worker`).
STARTED_LINE = " started: role="
# The last lines of a crashed worker's log kept with the crash.
LOG_TAIL_LINES = 15
# How long a reader waits for the broker per fetch: short, so a wait loop checks its condition often.
READ_POLL_S = 0.5
# A restarted Redis answers within this (it starts empty in milliseconds).
REDIS_GONE_TIMEOUT_S = 10.0
# A stream sleeps at most this between checks: acts come on time even between sparse messages.
STREAM_TICK_S = 0.05


@dataclass
class Worker:
    name: str
    role: Role
    proc: subprocess.Popen
    log: Path
    told: int | None = None  # the signal we sent, None while it runs on its own

    def serving(self) -> bool:
        return STARTED_LINE in self.log.read_text(errors="replace")

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])


class FaultStack:
    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.workers: list[Worker] = []
        self.produced: dict[str, int] = {}
        self.producer = Producer(client_config(settings))

    @classmethod
    @contextmanager
    def up(cls, model: Path, home: Path, worker_env: dict[str, str] | None = None) -> Iterator["FaultStack"]:
        worker_env = worker_env or {}
        prefix = Settings.model_config["env_prefix"]
        extra = {name.removeprefix(prefix).lower(): value for name, value in worker_env.items()}
        settings, env = stack_settings(model, home, None, extra)
        stack = cls(settings, env | WORKER_ENV | worker_env)
        stack.dev("up")
        try:
            yield stack
        finally:
            stack.stop_all()
            stack.producer.flush(5)
            del stack.producer  # no client may outlive the broker
            stack.dev("down")

    def dev(self, command: str) -> None:
        """`rankstream dev up|down` in a process of its own: the services it starts are not our children,
        so none lingers as a zombie that `dev down` would wait for."""
        subprocess.run(
            [RANKSTREAM, "dev", command], env=self.env, check=True, capture_output=True, timeout=DEV_TIMEOUT_S
        )

    # --- workers ---
    def start(self, role: Role) -> Worker:
        name = f"{role}-{len(self.workers)}"
        log = self.settings.home / "workers" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = self.env | {"RANKSTREAM_WORKER_ID": name}
        with log.open("wb") as out:
            proc = subprocess.Popen([WORKER, "--role", role], env=env, stdout=out, stderr=subprocess.STDOUT)
        worker = Worker(name, role, proc, log)
        self.workers.append(worker)
        return worker

    def running(self, role: Role | None = None) -> list[Worker]:
        return [w for w in self.workers if w.told is None and (role is None or w.role == role)]

    def kill(self, worker: Worker) -> None:
        worker.told = signal.SIGKILL
        worker.proc.kill()
        worker.proc.wait()

    def leave(self, worker: Worker) -> None:
        worker.told = signal.SIGTERM
        worker.proc.terminate()

    def stop_all(self) -> None:
        """SIGTERM to every running worker, then wait for each (SIGKILL after its drain and a margin)."""
        for worker in self.running():
            self.leave(worker)
        deadline = time.monotonic() + self.settings.shutdown_timeout_s + STOP_MARGIN_S
        for worker in self.workers:
            try:
                worker.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()

    def crashes(self) -> list[str]:
        """Each worker that exited on its own, or failed after SIGTERM: its name, code and last lines."""
        failed = []
        for w in self.workers:
            code = w.proc.poll()
            if code is None or w.told == signal.SIGKILL or (w.told == signal.SIGTERM and code == 0):
                continue
            if w.told == signal.SIGTERM and code == -signal.SIGTERM and not w.serving():
                continue  # stopped while importing, before its handlers and any consumer existed
            failed.append(f"{w.name} exited {code}{' after SIGTERM' if w.told else ''}:\n{w.log_tail()}")
        return failed

    # --- topics ---
    def topic(self, name: str) -> str:
        """The configured topic of a short name: postings, queries, results or dlq."""
        return getattr(self.settings, f"topic_{name}")

    def produce(
        self, name: str, key: str | bytes | None, value: bytes | dict | None, on_delivery: Delivered | None = None
    ) -> None:
        raw = json.dumps(value).encode() if isinstance(value, dict) else value
        key = key.encode() if isinstance(key, str) else key
        self.producer.produce(self.topic(name), raw, key, on_delivery=on_delivery)
        self.producer.poll(0)
        self.produced[name] = self.produced.get(name, 0) + 1

    def flush(self) -> None:
        if self.producer.flush(30) != 0:
            raise RuntimeError("messages not delivered to the broker")

    def committed(self, role: Role, name: str) -> int:
        """Sum over the topic's partitions of the role group's committed offsets."""
        consumer = Consumer({**client_config(self.settings), "group.id": self.settings.consumer_group(role)})
        try:
            tps = [TopicPartition(self.topic(name), p) for p in range(self.settings.topic_partitions)]
            return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
        finally:
            consumer.close()

    def settled(self, role: Role, name: str) -> bool:
        return self.committed(role, name) >= self.produced.get(name, 0)

    # --- Redis ---
    def _redis_pid(self) -> int:
        return int((self.settings.home / "run" / "redis.pid").read_text())  # written by `cli.dev.up`

    def freeze_redis(self) -> None:
        os.kill(self._redis_pid(), signal.SIGSTOP)

    def thaw_redis(self) -> None:
        os.kill(self._redis_pid(), signal.SIGCONT)

    def restart_redis_empty(self) -> bool:
        """1. SIGKILL redis-server (nothing saved: `cli.dev` runs it without persistence);
        2. wait until its port is free; 3. `rankstream dev up` starts a fresh one on the same port.
        Whether a new server answers (its run id differs: it started empty)."""
        before = self._redis_run_id()
        os.kill(self._redis_pid(), signal.SIGKILL)
        if not wait_for(lambda: not _port_open(self.settings), REDIS_GONE_TIMEOUT_S):
            raise TimeoutError("the killed Redis still holds its port")
        self.dev("up")
        return self._redis_run_id() != before

    def _redis_run_id(self) -> str:
        with redis.Redis.from_url(self.settings.redis_url.get_secret_value()) as client:
            return client.info("server")["run_id"]


def _port_open(settings: Settings) -> bool:
    return next(s for s in services(settings) if s.name == "redis").answers()


def stream(
    stack: FaultStack,
    messages: Sequence[tuple[str, str, dict]],
    seconds: float,
    every_s: float,
    act: Callable[[], None],
    then: Callable[[str, dict], None],
) -> int:
    """Produce (topic, key, value) messages evenly over `seconds`, calling `then(topic, value)` after
    each and `act()` every `every_s` meanwhile (a fault, a join, a leave); the number of acts."""
    started, acts = time.monotonic(), 0
    gap = seconds / max(len(messages), 1)
    for i, (name, key, value) in enumerate(messages):
        while (elapsed := time.monotonic() - started) < i * gap:
            time.sleep(min(i * gap - elapsed, STREAM_TICK_S))
        if elapsed >= (acts + 1) * every_s:
            act()
            acts += 1
        stack.produce(name, key, value)
        then(name, value)
    stack.flush()
    return acts


class Acts:
    """A scenario's faults, one per call (for `stream`'s `act`), in order: (name, fault) pairs, a None
    fault only marking time; `done` names those done so far."""

    def __init__(self, schedule: Sequence[tuple[str, Callable[[], object] | None]]) -> None:
        self.schedule = schedule
        self.done: list[str] = []

    def __call__(self) -> None:
        if len(self.done) < len(self.schedule):
            name, fault = self.schedule[len(self.done)]
            if fault:
                fault()
            self.done.append(name)

    def all_done(self) -> bool:
        return len(self.done) == len(self.schedule)


def wait_for(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> bool:
    """Whether `condition()` came to hold within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


class Reader:
    """Every message of one topic from its start, read by assignment (no consumer group to join)."""

    def __init__(self, stack: FaultStack, name: str) -> None:
        config = {**client_config(stack.settings), "group.id": f"faults-reader-{uuid.uuid4().hex}"}
        self.consumer = Consumer(config | {"enable.auto.commit": False})
        topic = stack.topic(name)
        partitions = range(stack.settings.topic_partitions)
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self.messages: list[Message] = []

    def poll(self) -> list[Message]:
        """The messages that arrived since the last call (waiting up to READ_POLL_S for some)."""
        new = [m for m in self.consumer.consume(500, READ_POLL_S) if not m.error()]
        self.messages += new
        return new

    def until_count(self, n: int, timeout_s: float) -> bool:
        """Read until `n` messages in all were read (True) or `timeout_s` passed (False)."""
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < n:
            if time.monotonic() > deadline:
                return False
            self.poll()
        return True

    def close(self) -> None:
        self.consumer.close()
