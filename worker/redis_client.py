"""The one way to make a Redis client from the settings: one node, or a Redis Cluster.

`redis_client(settings, timeout_s)`: `RANKSTREAM_REDIS_URL` (with its password and `rediss://` TLS,
`RANKSTREAM_REDIS_SSL_CA_CERTS`) names the node, or with `RANKSTREAM_REDIS_CLUSTER` any node of a
cluster: redis-py's `RedisCluster` finds the others, routes each key to its slot's master, splits
pipelines by node and follows MOVED/ASK and failovers (its own retries, then it raises).
`UNAVAILABLE_ERRORS` are what either raises while the store is away (a node down, a cluster without a
master for some slots, a failover under way): the stages retry them, never dead-letter on them.
Ignores key layout (`compressor.store`, `compressor.epoch`).
"""

from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import ClusterError, SlotNotCoveredError, TryAgainError

from compressor.client import StoreClient
from worker.settings import Settings

# A Redis call slower than this counts as a dependency error (the stage retries it with backoff).
REDIS_TIMEOUT_S = 5.0
# PING an idle pooled connection before reusing it after this long: a connection a restarted node or
# a load balancer dropped is replaced instead of failing its first command.
HEALTH_CHECK_INTERVAL_S = 30

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    ClusterError,  # CLUSTERDOWN, MASTERDOWN, and a cluster's retries run out
    SlotNotCoveredError,  # a slot whose master is gone, with no replica to take over
    TryAgainError,  # a slot being migrated
)


def redis_client(settings: Settings, timeout_s: float = REDIS_TIMEOUT_S) -> StoreClient:
    extra: dict[str, Any] = {}
    if settings.redis_ssl_ca_certs:
        extra["ssl_ca_certs"] = str(settings.redis_ssl_ca_certs)
    kind = RedisCluster if settings.redis_cluster else redis.Redis
    return kind.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        **extra,
    )
