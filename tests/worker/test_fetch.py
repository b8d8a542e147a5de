"""`worker.fetch` against a real local Redis Cluster of its own (3 masters, a replica each): a master
killed, its replica promoted, the fetch waiting the failover out and reading every context; then the
promoted replica killed too (its slots have no node left): the fetch gives up after its wait and
answers `context_store_unavailable`, never `missing_context`; both started again by `rankstream dev up`
(from their append-only files): every context is back. About 15 s."""

import time
from collections.abc import Iterator

import pytest

from cli.dev import free_ports
from cli.dev_cluster import MASTERS
from cli.dev_nodes import kill_node, promoted, replica_of, replicated
from compressor import ContextEntry, ContextStore, EventOrder
from compressor.epoch import EpochStore
from tests.conftest import DevServices, started
from worker.fetch import fetch_within

JOBS = [f"job-{i}" for i in range(100)]  # a 100-candidate query touches every master
# Far above a local failover (a 2 s node timeout, then an election) on a busy machine.
FAILOVER_WAIT_S = 60.0
# The wait of a query whose slots have no node: short, so the test is.
LOST_WAIT_S = 1.0
# The fetch gives up within its wait and a connection attempt or two (refused at once on one machine).
GIVE_UP_MARGIN_S = 3.0


@pytest.fixture()
def replicated_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServices]:
    url = f"redis://127.0.0.1:{free_ports(2 * MASTERS)}/0"
    services = started(tmp_path_factory, url, redis_cluster=True, redis_cluster_replicas="1")
    yield services
    services.run("dev", "down")


def test_a_failover_is_waited_out_a_lost_master_is_named_and_nothing_is_lost(
    replicated_cluster: DevServices,
) -> None:
    settings = replicated_cluster.settings()
    client = replicated_cluster.store_client()
    store = ContextStore(client, "extractive@1", "tok-a")
    epochs = EpochStore(client, store.namespace)
    epochs.mark_ready(epochs.begin())
    store.put_many([ContextEntry(j, f"text {j}", [i], "h", EventOrder(None, 0, i)) for i, j in enumerate(JOBS)])
    master = client.get_node_from_key(epochs.key).port  # the epoch's master: the store's state fails over too
    replica = replica_of(settings, master)
    assert replicated(settings, master), "the replica took every write before the kill"

    kill_node(settings, master)
    fetched = fetch_within(store, JOBS, FAILOVER_WAIT_S)
    assert promoted(settings, replica)
    assert fetched.store_ready and [c.text for c in fetched.contexts if c] == [f"text {j}" for j in JOBS]

    kill_node(settings, replica)  # now a master with no replica
    began = time.monotonic()
    fetched = fetch_within(store, JOBS, LOST_WAIT_S)
    assert LOST_WAIT_S <= time.monotonic() - began < LOST_WAIT_S + GIVE_UP_MARGIN_S
    assert fetched.contexts == [None] * len(JOBS) and fetched.missing_reason == "context_store_unavailable"

    replicated_cluster.run("dev", "up")
    fetched = fetch_within(store, JOBS, FAILOVER_WAIT_S)
    assert fetched.store_ready and all(c is not None for c in fetched.contexts), "nothing lost"
