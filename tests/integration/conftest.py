"""Integration fixtures: per-test topics on the session's real broker, and worker processes.

The `cluster` fixture's Redis is the session's one node, or its Redis Cluster (3 masters) where a test
asks for it (`ON_BOTH_REDIS`, an indirect parametrization) or `TEST_REDIS_CLUSTER=1` is set: the whole
folder then runs against the cluster, as `make test` runs it against one node.
"""

import gc
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition

from tests.conftest import RANKSTREAM, DevServices, free_port

READ_TIMEOUT_S = 60.0
ONE_NODE, REDIS_CLUSTER = "one node", "redis cluster"
DEFAULT_REDIS = REDIS_CLUSTER if os.environ.get("TEST_REDIS_CLUSTER") == "1" else ONE_NODE
# For a test that runs on both: @ON_BOTH_REDIS
ON_BOTH_REDIS = pytest.mark.parametrize("cluster", [ONE_NODE, REDIS_CLUSTER], indirect=True)


@dataclass
class Cluster:
    """One test's topics and group on the session broker, with a producer and readers."""

    services: DevServices
    env: dict[str, str]
    topics: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.producer = Producer({"bootstrap.servers": self.services.bootstrap})

    def produce(
        self, topic: str, key: str | None, value: bytes | dict, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        raw = json.dumps(value).encode() if isinstance(value, dict) else value
        self.producer.produce(self.topics[topic], raw, key.encode() if key else None, headers=headers)

    def flush(self) -> None:
        assert self.producer.flush(30) == 0

    def start_worker(self, *extra: str, **env: str) -> subprocess.Popen:
        worker_env = {**self.env, "RANKSTREAM_HTTP_PORT": str(free_port()), **env}
        proc = subprocess.Popen(
            [RANKSTREAM, "worker", *extra], env=worker_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        proc.http_port = int(worker_env["RANKSTREAM_HTTP_PORT"])  # type: ignore[attr-defined]
        self.workers.append(proc)
        return proc

    def read(self, topic: str, until: Callable[[list[Message]], bool]) -> list[Message]:
        """Read a topic from the start until `until(messages)` holds (or fail after a timeout)."""
        consumer = Consumer(
            {
                "bootstrap.servers": self.services.bootstrap,
                "group.id": f"reader-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            }
        )
        consumer.subscribe([self.topics[topic]])
        messages: list[Message] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        try:
            while not until(messages):
                assert time.monotonic() < deadline, f"timed out reading {topic}: {len(messages)} messages"
                messages += [m for m in consumer.consume(100, 0.5) if not m.error()]
        finally:
            consumer.close()
        return messages

    def committed(self, topic: str, partitions: int) -> int:
        """Sum over partitions of the workers' committed position on `topic` (the furthest of the
        role groups: a test's workers run as `all` or as one role)."""
        positions = [0] * partitions
        for role in ("postings", "queries", "all"):
            group = f"{self.env['RANKSTREAM_GROUP_ID']}-{role}"
            consumer = Consumer({"bootstrap.servers": self.services.bootstrap, "group.id": group})
            try:
                tps = consumer.committed([TopicPartition(self.topics[topic], p) for p in range(partitions)], timeout=10)
            finally:
                consumer.close()
            positions = [max(old, tp.offset) for old, tp in zip(positions, tps, strict=True)]
        return sum(positions)

    def stop_workers(self, timeout_s: float = 60.0) -> list[int]:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout_s) for proc in self.workers]
        self.workers.clear()
        return codes


@pytest.fixture()
def cluster(request: pytest.FixtureRequest, tiny_model_dir) -> Iterator[Cluster]:
    """Fresh topics (created by `rankstream dev up`, which is idempotent) and a worker environment, on
    the session's one Redis node or its Redis Cluster (module docstring)."""
    redis = getattr(request, "param", DEFAULT_REDIS)
    dev_services: DevServices = request.getfixturevalue("dev_services" if redis == ONE_NODE else "cluster_services")
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"{name}-{suffix}" for name in ("postings", "queries", "results", "dlq")}
    env = {
        **dev_services.env,
        **{f"RANKSTREAM_TOPIC_{name.upper()}": topic for name, topic in topics.items()},
        "RANKSTREAM_GROUP_ID": f"rankstream-{suffix}",
        "RANKSTREAM_MODEL_PATH": str(tiny_model_dir),
        "RANKSTREAM_DTYPE": "float32",
        "RANKSTREAM_COMMIT_INTERVAL_S": "0.2",
    }
    DevServices(env, dev_services.bootstrap, dev_services.redis_url, dev_services.redis_cluster).run("dev", "up")
    cluster = Cluster(dev_services, env, topics)
    yield cluster
    for proc in cluster.workers:
        proc.kill()
    cluster.producer.flush(5)
    del cluster.producer
    gc.collect()  # librdkafka clients of the test must not outlive the broker (`dev down` at session end)
