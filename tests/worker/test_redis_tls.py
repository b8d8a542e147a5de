"""TLS to a real redis-server: `rankstream dev up` with a `rediss://` URL starts one node, then a cluster
of 3 masters with a replica each (its bus and replication over TLS too), listening for TLS only with a
certificate from a throwaway CA. The worker's own store client, built from the settings (the URL with
its password, `RANKSTREAM_REDIS_SSL_CA_CERTS`), writes and reads contexts on every master and passes
readiness; a client that does not trust the CA is refused, and a plain-text client is dropped."""

from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from cli.dev import free_port, free_ports
from cli.dev_cluster import MASTERS
from cli.dev_nodes import replicated
from compressor import ContextEntry, ContextStore, EventOrder
from tests.conftest import DevServices, started
from worker.readiness import redis_check
from worker.redis_client import node_client, redis_client

TLS_PASSWORD = "tls-secret"
# A replica for each master of the cluster: replication over TLS too.
REPLICAS = 1
# One try: redis-py's default retries with backoff would spend seconds on a refusal.
NO_RETRY = Retry(NoBackoff(), 0)
# Enough jobs that a cluster's three masters each hold some (slots are fixed by `--cluster create`).
JOBS = [f"job-{i}" for i in range(30)]


@pytest.fixture(scope="module", params=["one node", "cluster"])
def tls_services(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServices]:
    cluster = request.param == "cluster"
    port = free_ports(MASTERS * (1 + REPLICAS)) if cluster else free_port()
    url = f"rediss://:{TLS_PASSWORD}@127.0.0.1:{port}/0"
    services = started(tmp_path_factory, url, redis_cluster=cluster, redis_cluster_replicas=str(REPLICAS))
    yield services
    services.run("dev", "down")


def test_the_store_writes_and_reads_contexts_over_tls(tls_services: DevServices) -> None:
    settings = tls_services.settings()
    with redis_client(settings) as client:
        store = ContextStore(client, "extractive@1", "tok-a")
        entries = [ContextEntry(job, f"text of {job}", [1, 2, 70000], f"hash-{job}", EventOrder(None)) for job in JOBS]
        assert store.put_many(entries) == [True] * len(JOBS)
        got = store.get_many([*JOBS, "never-posted"])
        assert [c.text if c else None for c in got] == [*(f"text of {job}" for job in JOBS), None]
        assert all(c.token_ids == [1, 2, 70000] for c in got if c)
        assert redis_check(client)() is None
        masters = [node.port for node in client.get_primaries()] if settings.redis_cluster else []
    assert len(masters) == (MASTERS if settings.redis_cluster else 0)
    for port in masters:  # each holds some contexts, and its replica (replication over TLS) all of them
        assert node_client(settings, port).dbsize() > 0 and replicated(settings, port)


def test_tls_is_required_and_the_server_is_verified(tls_services: DevServices) -> None:
    settings = tls_services.settings()
    port = settings.redis_url.get_secret_value().rsplit(":", 1)[1].split("/")[0]
    with pytest.raises(redis.ConnectionError):  # no plain-text port (`--port 0`)
        redis.Redis(port=int(port), password=TLS_PASSWORD, retry=NO_RETRY).ping()
    untrusting = settings.model_copy(update={"redis_ssl_ca_certs": None})
    with pytest.raises((redis.ConnectionError, RedisClusterException), match="certificate verify failed"):
        redis_client(untrusting).ping()
