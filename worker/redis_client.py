"""The one way to make a Redis client from the settings: one node, or a Redis Cluster.

`redis_client(settings, timeout_s)`: `RANKSTREAM_REDIS_URL` (with its password and `rediss://` TLS,
`RANKSTREAM_REDIS_SSL_CA_CERTS`) names the node, or with `RANKSTREAM_REDIS_CLUSTER` any node of a
cluster: redis-py's `RedisCluster` finds the others, routes each key to its slot's master, splits
pipelines by node and follows MOVED/ASK and failovers (its own retries, then it raises).
`UNAVAILABLE_ERRORS` are what either raises while the store is away (a node down, a cluster without a
master for some slots, a failover under way): the stages retry them, never dead-letter on them.
`node_client(settings, port)`: one node of the configured Redis on another port of the URL's host (a
local cluster's node, for CLUSTER and INFO commands), with the same password and TLS.
Ignores key layout (`compressor.store`, `compressor.epoch`).
"""

from typing import Any
from urllib.parse import urlparse

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


def _options(settings: Settings, timeout_s: float) -> dict[str, Any]:
    options: dict[str, Any] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }
    if settings.redis_ssl_ca_certs:
        options["ssl_ca_certs"] = str(settings.redis_ssl_ca_certs)
    return options


def redis_client(settings: Settings, timeout_s: float = REDIS_TIMEOUT_S) -> StoreClient:
    kind = RedisCluster if settings.redis_cluster else redis.Redis
    return kind.from_url(settings.redis_url.get_secret_value(), **_options(settings, timeout_s))


def node_client(settings: Settings, port: int, timeout_s: float = REDIS_TIMEOUT_S) -> redis.Redis:
    url = urlparse(settings.redis_url.get_secret_value())
    address = url.netloc.rpartition(":")[0] if url.port else url.netloc  # user:password@host
    return redis.Redis.from_url(url._replace(netloc=f"{address}:{port}").geturl(), **_options(settings, timeout_s))
