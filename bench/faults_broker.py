"""`python -m bench.faults_broker [--strategy range|cooperative-sticky] [--churn-seconds S]`: whether
the local broker's consumer groups survive churn, with no rankstream code in the group.

Plain confluent-kafka consumers (nothing of the worker's: no callbacks doing work, default options
but `session.timeout.ms` 6000 and the strategy) join and leave one group on the queries topic every
`MOVE_EVERY_S` (1 to `MAX_MEMBERS` members, seeded), for `--churn-seconds`; then every member closes
and one fresh consumer subscribes. Prints the seconds until it is assigned partitions, or that it was
not within `--wait-seconds`. On Apache Kafka it is assigned within a few seconds; on Tansu 0.6.0 it
was not, with either strategy (docs/results.md, the fault suite's storm), which is why the storm
fails there whatever the worker does.

Ignores everything but group membership: nothing is produced or committed.
"""

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer

from cli.dev import down, free_port, up
from worker.settings import Settings

MOVE_EVERY_S = 1.5  # the fault suite's storm moves every 2-3 s; faster shows the stall sooner
MAX_MEMBERS = 3
POLL_S = 0.05
SEED = 1


class Member:
    """A consumer polling on a thread of its own until `leave`; `assigned_at` once it has partitions."""

    def __init__(self, settings: Settings, strategy: str) -> None:
        self.config = {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": "churn",
            "session.timeout.ms": 6000,
            "partition.assignment.strategy": strategy,
        }
        self.topic = settings.topic_queries
        self.assigned_at: float | None = None
        self._leave = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        consumer = Consumer(self.config)
        consumer.subscribe([self.topic], on_assign=lambda _c, parts: self._assigned(parts))
        while not self._leave.is_set():
            consumer.poll(POLL_S)
        consumer.close()

    def _assigned(self, partitions: list) -> None:
        if partitions and self.assigned_at is None:
            self.assigned_at = time.monotonic()

    def leave(self) -> None:
        self._leave.set()
        self._thread.join()


def churn(settings: Settings, strategy: str, seconds: float) -> None:
    """Members join and leave for `seconds`, then all leave; none ever joins when `seconds` is 0."""
    if seconds <= 0:
        return
    rng, members = random.Random(SEED), [Member(settings, strategy)]
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        time.sleep(MOVE_EVERY_S)
        if len(members) < MAX_MEMBERS and (len(members) == 1 or rng.random() < 0.5):
            members.append(Member(settings, strategy))
        else:
            members.pop(0).leave()
    for member in members:
        member.leave()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="range", choices=["range", "roundrobin", "cooperative-sticky"])
    parser.add_argument("--churn-seconds", type=float, default=30.0)
    parser.add_argument("--wait-seconds", type=float, default=120.0)
    args = parser.parse_args()
    settings = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # type: ignore[arg-type]  # pydantic parses it
        home=Path(tempfile.mkdtemp(prefix="rankstream-churn-")),
    )
    up(settings)
    try:
        churn(settings, args.strategy, args.churn_seconds)
        started, fresh = time.monotonic(), Member(settings, args.strategy)
        while fresh.assigned_at is None and time.monotonic() - started < args.wait_seconds:
            time.sleep(POLL_S)
        fresh.leave()
    finally:
        down(settings)
    churned = f"{args.strategy}, {args.churn_seconds:g} s of churn: a fresh member was"
    if fresh.assigned_at is None:
        print(f"{churned} not assigned in {args.wait_seconds:g} s")
    else:
        print(f"{churned} assigned after {fresh.assigned_at - started:.1f} s")


if __name__ == "__main__":
    main()
