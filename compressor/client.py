"""The Redis client the store takes: one node (`redis.Redis`) or a cluster (`redis.cluster.RedisCluster`).

Both serve the same calls the store makes, so the store has one code path: single-key commands and
single-key Lua scripts, non-transactional pipelines (a cluster's split by node), and MULTI only over
keys that share a hash tag (one slot). Ignores how the client is built (`worker.redis_client`).
"""

import redis
from redis.client import Pipeline
from redis.cluster import ClusterPipeline, RedisCluster

StoreClient = redis.Redis | RedisCluster
StorePipeline = Pipeline | ClusterPipeline


def tagged(namespace: str) -> str:
    """`namespace` as a hash tag: keys that carry it live in one slot, on one node of a cluster."""
    return "{" + namespace + "}"
