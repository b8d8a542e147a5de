"""Readiness: can this worker serve now? Its own state and its two dependencies, checked for real.

`Readiness()` returns the problems found (an empty list: ready), from named checks run in order;
`loop_readiness` makes the worker's: the consumer has partitions, no stage is retrying a dependency,
Redis answers PING (every master of a cluster), the broker answers a metadata request, and, for a
worker that answers queries, the context store is there and built (its epoch exists and is ready,
`compressor.epoch`: not while Redis is new or wiped, or the postings workers replay into it). Each
dependency check is bounded by `CHECK_TIMEOUT_S`, and the result is kept for `CACHE_S`, so probes cost
at most one PING (per master) and one metadata request a second. A check that raises counts as a
problem, named with its error.
Ignores liveness (the heartbeat, `worker.health`); a dependency slower than the timeout counts as away.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka.admin import AdminClient
from redis.cluster import RedisCluster

from compressor.client import StoreClient
from compressor.epoch import EpochStore
from worker.loop import ConsumeLoop

# A dependency slower than this is as good as away for serving: well above a healthy Redis PING or
# metadata round trip (~1 ms on a LAN), below a kubelet probe's default 1 s timeout.
CHECK_TIMEOUT_S = 0.5
# Probes within this share one result: a probe every second costs one PING and one metadata request.
CACHE_S = 1.0

Check = Callable[[], str | None]  # None when fine, else what is wrong


@dataclass(frozen=True)
class NamedCheck:
    name: str
    check: Check


def redis_check(client: StoreClient) -> Check:
    """PING, to every master of a cluster: one away leaves its slots' contexts unreadable (the client
    carries `CHECK_TIMEOUT_S` as its socket timeout). Replicas are not asked: one away serves nothing less."""

    def ping() -> str | None:
        if isinstance(client, RedisCluster):
            client.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            client.ping()
        return None

    return ping


def broker_check(admin: AdminClient, topic: str) -> Check:
    """A metadata request for `topic`, through a client of its own: the consumer's handle blocks calls
    from other threads while the loop consumes."""

    def metadata() -> str | None:
        admin.poll(0)  # serves the client's log lines
        admin.list_topics(topic, timeout=CHECK_TIMEOUT_S)
        return None

    return metadata


def store_check(epochs: EpochStore) -> Check:
    """The context store's epoch: missing (Redis new or wiped) or rebuilding is not ready."""

    def epoch() -> str | None:
        progress = epochs.read()
        if progress.epoch is None:
            return "missing (Redis new, restarted empty or wiped): the postings workers rebuild it"
        return None if progress.ready else f"rebuilding (epoch {progress.epoch.id}): the postings workers replay"

    return epoch


class Readiness:
    def __init__(self, checks: list[NamedCheck], cache_s: float = CACHE_S) -> None:
        self.checks = checks
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._problems: list[str] = []

    def __call__(self) -> list[str]:
        with self._lock:  # concurrent probes wait for one check instead of running their own
            if time.monotonic() - self._at >= self.cache_s:
                self._problems = [problem for named in self.checks if (problem := self._run(named))]
                self._at = time.monotonic()
            return list(self._problems)

    @staticmethod
    def _run(named: NamedCheck) -> str | None:
        try:
            problem = named.check()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        return None if problem is None else f"{named.name}: {problem}"


def loop_readiness(
    loop: ConsumeLoop, redis_client: StoreClient, admin: AdminClient, epochs: EpochStore | None = None
) -> Readiness:
    """The worker's checks; `redis_client` (and `epochs`' client) should time out after `CHECK_TIMEOUT_S`;
    `epochs` for a worker that answers queries."""
    stages = [route.stage for route in loop.routes.values()]

    def partitions() -> str | None:
        return None if loop.assignment else "none assigned yet"

    def retrying() -> str | None:
        return next((f"stage {s.name} is retrying a dependency" for s in stages if not s.healthy), None)

    checks = [
        NamedCheck("partitions", partitions),
        NamedCheck("stages", retrying),
        NamedCheck("redis", redis_check(redis_client)),
        NamedCheck("broker", broker_check(admin, next(iter(loop.routes)))),
    ]
    return Readiness(checks + ([NamedCheck("context store", store_check(epochs))] if epochs else []))
