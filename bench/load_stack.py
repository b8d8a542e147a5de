"""The system under load for `bench.load`: a broker, a Redis and one worker process, with its RSS sampled.

`stack_settings(model, home, threads, extra)` -> (Settings, environment): the worker's default settings
(or the environment's RANKSTREAM_*) but for free ports, the model path, the home (pids and logs),
when given, the torch threads, and any `extra` settings (say, a Redis Cluster).
`Stack.up(settings, env)` is a context manager: it starts Tansu and Redis on those ports (`cli.dev.up`,
topics created), then `rankstream-worker --role all` with that environment; on leaving (an error,
Ctrl-C or SIGTERM included) it prints the end of a failed run's worker log (not an interrupted one's),
stops the worker (SIGTERM, then SIGKILL after its bounded drain) and the services (`cli.dev.down`).
A thread samples the worker's RSS (children included) every second, tagged with `stack.phase`, and
every 15 s the prefix cache's size from the worker's /metrics.
`store_postings` produces the O*NET postings and waits until the worker's group has committed all
of them (a posting's offset is committed only once it is stored).

Ignores the queries and results (`bench.load_traffic`).
"""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psutil
from confluent_kafka import Consumer, Producer, TopicPartition

from cli.dev import down, free_port, free_ports, redis_services, up
from schemas import JobPosting
from worker.kafka import client_config
from worker.settings import Settings

WORKER = str(Path(sys.executable).parent / "rankstream-worker")
# The worker's first poll comes after its model loads (seconds; ~1 min for the default model on a busy
# machine) and 1,016 postings are compressed and stored in a few seconds more: ample, but finite.
STORE_TIMEOUT_S = 600.0
# Past the worker's own bounded drain (`shutdown_timeout_s`), it is killed.
STOP_MARGIN_S = 10.0
# One RSS sample a second: fine enough for growth over minutes, cheap beside the worker.
RSS_INTERVAL_S = 1.0
# The prefix cache's bytes come from the worker's /metrics at Prometheus' default scrape interval
# (15 s): rendering every metric each second would take the worker's CPU from the model it measures.
CACHE_SCRAPE_EVERY = 15  # RSS samples
# The worker's gauge of its prefix cache (`worker.service.watch_prefix_cache`): tells a full cache from a leak.
CACHE_GAUGE = "rankstream_prefix_cache_bytes"
# A sample waits at most this for the worker's /metrics: a busy worker answers late, and a sample may go without it.
METRICS_TIMEOUT_S = 0.5
# Logged lines of a failed worker shown with the error.
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class RssSample:
    seconds: float  # since the worker started
    phase: str
    mb: float
    cache_mb: float | None  # the prefix cache's share of it, None when the worker does not say


def prefix_cache_mb(port: int) -> float | None:
    """The worker's prefix cache bytes, from its /metrics, in MB; None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=METRICS_TIMEOUT_S) as response:
            text = response.read().decode()
    except OSError:
        return None
    values = [line.split()[-1] for line in text.splitlines() if line.startswith(CACHE_GAUGE)]
    return round(float(values[0]) / 2**20, 1) if values else None


def process_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and its children."""
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def stack_settings(
    model: Path, home: Path, threads: int | None, extra: dict[str, str] | None = None
) -> tuple[Settings, dict[str, str]]:
    """The worker's settings (its defaults, or the environment's RANKSTREAM_*, but for fresh ports, the
    model, the home, the threads when given, and `extra` settings by field name) and the environment
    that gives them to its process. A Redis Cluster (`redis_cluster`) gets a free port for each node."""
    extra = extra or {}
    redis_ports = len(redis_services(Settings(**extra, home=home)))  # type: ignore[arg-type]
    overrides = (
        extra
        | {
            "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",
            "redis_url": f"redis://127.0.0.1:{free_ports(redis_ports)}/0",
            "model_path": str(model),
            "home": str(home),
            "http_port": str(free_port()),
        }
        | ({"threads": str(threads)} if threads else {})
    )
    env = {**os.environ, **{f"RANKSTREAM_{name.upper()}": value for name, value in overrides.items()}}
    return Settings(**overrides), env  # type: ignore[arg-type]  # pydantic parses the strings


class Stack:
    """The running services and worker; `phase` tags the RSS samples taken from now on."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.phase = "start, postings"
        self.samples: list[RssSample] = []
        self.worker: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="rss", daemon=True)

    @classmethod
    @contextmanager
    def up(cls, settings: Settings, env: dict[str, str]) -> Iterator["Stack"]:
        stack = cls(settings, env)
        try:
            up(settings)
            stack._start_worker()
            yield stack
        except Exception:  # a failure, not an interrupt: the worker's last words may say why
            if stack.log.exists():
                print(f"the worker's log ends:\n{stack.log_tail()}", file=sys.stderr)
            raise
        finally:
            stack._stop_worker()
            down(settings)

    def ports(self) -> dict[str, int]:
        """Where the broker, Redis and the worker's /metrics listened (nothing does after the run)."""
        redis_port = urlparse(self.settings.redis_url.get_secret_value()).port or 0
        kafka_port = int(self.settings.kafka_bootstrap_servers.rpartition(":")[2])
        return {"kafka": kafka_port, "redis": redis_port, "worker_http": self.settings.http_port}

    @property
    def log(self) -> Path:
        return self.settings.home / "worker.log"

    def _start_worker(self) -> None:
        with self.log.open("wb") as out:
            self.worker = subprocess.Popen(
                [WORKER, "--role", "all"], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._sampler.start()

    def _stop_worker(self) -> None:
        self._stop.set()
        if self.worker is None:
            return
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(self.settings.shutdown_timeout_s + STOP_MARGIN_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
        if self._sampler.is_alive():
            self._sampler.join()

    def _sample(self) -> None:
        assert self.worker is not None
        process, started = psutil.Process(self.worker.pid), time.monotonic()
        for count in itertools.count():
            if self._stop.wait(RSS_INTERVAL_S):
                return
            try:
                mb = process_rss(process) / 2**20
            except psutil.NoSuchProcess:
                return
            cache = prefix_cache_mb(self.settings.http_port) if count % CACHE_SCRAPE_EVERY == 0 else None
            self.samples.append(RssSample(round(time.monotonic() - started, 1), self.phase, round(mb, 1), cache))

    def check_worker(self) -> None:
        """Raise, with the end of its log, if the worker has exited."""
        if self.worker is not None and self.worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.worker.returncode}")

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])

    def store_postings(self, postings: Sequence[JobPosting]) -> float:
        """Produce the postings, wait until the worker has stored them all; seconds taken."""
        started = time.monotonic()
        producer = Producer(client_config(self.settings))
        for posting in postings:
            producer.produce(self.settings.topic_postings, posting.model_dump_json(), posting.job_id)
            producer.poll(0)
        if producer.flush(30) != 0:
            raise RuntimeError("postings not delivered to the broker")
        while self.committed_postings() < len(postings):
            self.check_worker()
            if time.monotonic() - started > STORE_TIMEOUT_S:
                raise TimeoutError(f"{self.committed_postings()} of {len(postings)} postings stored")
            time.sleep(0.5)
        return time.monotonic() - started

    def committed_postings(self) -> int:
        """Sum over the postings topic's partitions of the worker group's committed offsets."""
        consumer = Consumer({**client_config(self.settings), "group.id": self.settings.consumer_group("all")})
        try:
            partitions = range(self.settings.topic_partitions)
            tps = [TopicPartition(self.settings.topic_postings, p) for p in partitions]
            return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
        finally:
            consumer.close()
