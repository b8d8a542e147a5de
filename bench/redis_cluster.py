"""`python -m bench.redis_cluster [--quick]`: the context store on one Redis node against a local
Redis Cluster (3 masters, a replica each), both started by `rankstream dev up` on free ports.

1. Both stores get the same `contexts` contexts (synthetic: a ~400-character text and 64 token ids
   each, the default model's budget) and a ready epoch.
2. Round trips: `rounds` fetches of 100 random candidates (`ContextStore.fetch`, what a query's fetch
   is), alternating between the two stores within each round, after `WARMUP` rounds: p50, p99, mean.
3. Failovers: `kills` times, a master of the cluster (each in turn, the epoch's first) is killed
   (`kill -9`) once its replica has taken all it wrote, while one client fetches 100 candidates (over
   every master) in a loop: the recovery is the time from the kill to the first fetch that reads
   every context again (the replica then a master); a fetch that read fewer contexts than stored
   would be a loss (counted). The killed node is started again
   (`dev up`: it rejoins as a replica) before the next kill.
Prints a table, writes bench/results/redis_cluster.json and its plot (`bench.redis_cluster_report`).
Every node runs on this one machine: the cluster's round trip pays for three sockets instead of one
and gains nothing from spreading; its point is capacity (one node's CPU and memory bound the store).
Ignores Kafka and the model (the store alone).
"""

import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.machine import machine
from bench.redis_cluster_report import print_table, write_plot
from bench.runner import bench_parser, finish, parse
from cli.dev import free_port, free_ports
from cli.dev_cluster import MASTERS, NODE_TIMEOUT_MS
from cli.dev_nodes import kill_node, nodes, promoted, replica_of, replicated
from compressor import ContextEntry, ContextStore, EventOrder
from compressor.epoch import EpochStore
from worker.redis_client import UNAVAILABLE_ERRORS, redis_client
from worker.settings import Settings

CANDIDATES = 100  # the round trip asked about: a 100-candidate query's fetch
CONTEXTS, QUICK_CONTEXTS = 20_000, 2_000
ROUNDS, QUICK_ROUNDS = 2_000, 200
KILLS, QUICK_KILLS = 3, 1
WARMUP = 50  # rounds not timed: connections opened, slots table loaded
TEXT_CHARS, TOKENS = 400, 64  # a compressed posting at the default model's budget
WRITE_BATCH = 500  # contexts per pipeline while filling the stores
RECOVERY_TIMEOUT_S = 60.0
POLL_S = 0.01  # between fetches while the killed master's slots fail over
SEED = 11
RANKSTREAM = str(Path(sys.executable).parent / "rankstream")

Env = dict[str, str]  # RANKSTREAM_* of one set of services


def services(home: Path, cluster: bool) -> Env:
    """`rankstream dev up` in `home`: one node, or the cluster with a replica per master."""
    port = free_ports(2 * MASTERS) if cluster else free_port()
    env = {
        "RANKSTREAM_HOME": str(home),
        "RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "RANKSTREAM_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RANKSTREAM_REDIS_CLUSTER": str(cluster).lower(),
        "RANKSTREAM_REDIS_CLUSTER_REPLICAS": "1",
    }
    dev(env, "up")
    return env


def settings_of(env: Env) -> Settings:
    prefix = Settings.model_config["env_prefix"]
    return Settings(**{k.removeprefix(prefix).lower(): v for k, v in env.items()})  # type: ignore[arg-type]


def dev(env: Env, command: str) -> None:
    subprocess.run([RANKSTREAM, "dev", command], env=os.environ | env, check=True, capture_output=True, timeout=120)


def filled(settings: Settings, jobs: Sequence[str]) -> ContextStore:
    store = ContextStore(redis_client(settings), "extractive@1", "bench")
    rng = random.Random(SEED)
    for start in range(0, len(jobs), WRITE_BATCH):
        batch = jobs[start : start + WRITE_BATCH]
        store.put_many(
            [
                ContextEntry(
                    j, "x" * TEXT_CHARS, [rng.randrange(50_000) for _ in range(TOKENS)], "h", EventOrder(None, 0, i)
                )
                for i, j in enumerate(batch, start)
            ]
        )
    epochs = EpochStore(store.client, store.namespace)
    epochs.mark_ready(epochs.begin())
    return store


def round_trips(stores: dict[str, ContextStore], jobs: Sequence[str], rounds: int) -> dict[str, list[float]]:
    """Seconds of each fetch, per store, the stores alternating (in either order) round by round."""
    rng, times = random.Random(SEED), {name: [] for name in stores}
    names = list(stores)
    for r in range(WARMUP + rounds):
        ids = rng.sample(jobs, CANDIDATES)
        for name in names if r % 2 else names[::-1]:
            began = time.perf_counter()
            fetched = stores[name].fetch(ids)
            elapsed = time.perf_counter() - began
            assert all(c is not None for c in fetched.contexts), f"{name}: a stored context read as missing"
            if r >= WARMUP:
                times[name].append(elapsed)
    return times


def failover(env: Env, store: ContextStore, jobs: Sequence[str], master: int) -> dict:
    """Kill `master`, fetch until every context reads again; its figures. The node is started again after."""
    settings = settings_of(env)
    replica = replica_of(settings, master)
    if not replicated(settings, master):
        raise TimeoutError(f"the replica of {master} did not catch up")
    ids = random.Random(master).sample(jobs, CANDIDATES)
    failed, short = 0, 0
    killed = time.monotonic()
    kill_node(settings, master)
    while time.monotonic() - killed < RECOVERY_TIMEOUT_S:
        try:
            read = sum(c is not None for c in store.fetch(ids).contexts)
        except UNAVAILABLE_ERRORS:
            failed += 1
            time.sleep(POLL_S)
            continue
        if read == CANDIDATES:
            break
        short += 1  # a fetch that read fewer contexts than stored: a loss, had it been a query's
    recovered_s = time.monotonic() - killed
    assert promoted(settings, replica), "the replica serves the killed master's slots"
    dev(env, "up")  # the killed node rejoins, as its replica's replica
    return {
        "killed_port": master,
        "recovered_s": round(recovered_s, 3),
        "failed_fetches": failed,
        "short_fetches": short,
    }


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, seconds: Sequence[float]) -> dict:
    ms = [s * 1e3 for s in seconds]
    return {
        "store": name,
        "fetches": len(ms),
        "p50_ms": round(quantile(ms, 0.5), 3),
        "p99_ms": round(quantile(ms, 0.99), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def run(quick: bool) -> dict:
    contexts, rounds, kills = (QUICK_CONTEXTS, QUICK_ROUNDS, QUICK_KILLS) if quick else (CONTEXTS, ROUNDS, KILLS)
    jobs = [f"job-{i}" for i in range(contexts)]
    with tempfile.TemporaryDirectory(prefix="rankstream-redis-cluster-") as tmp:
        node, cluster = services(Path(tmp) / "node", False), services(Path(tmp) / "cluster", True)
        try:
            stores = {
                "one node": filled(settings_of(node), jobs),
                f"cluster ({MASTERS} masters)": filled(settings_of(cluster), jobs),
            }
            times = round_trips(stores, jobs, rounds)
            cluster_store = list(stores.values())[1]
            first = cluster_store.client.get_node_from_key(
                EpochStore(cluster_store.client, cluster_store.namespace).key
            ).port
            others = (p for p, e in nodes(settings_of(cluster)).items() if "master" in e["flags"] and p != first)
            masters = [first, *sorted(others)]
            failovers = [failover(cluster, cluster_store, jobs, masters[i % len(masters)]) for i in range(kills)]
        finally:
            dev(node, "down")
            dev(cluster, "down")
    rows = [summary(name, seconds) for name, seconds in times.items()]
    return {
        "quick": quick,
        "contexts": contexts,
        "candidates": CANDIDATES,
        "rounds": rounds,
        "context_bytes": TEXT_CHARS + 4 * TOKENS,
        "node_timeout_ms": NODE_TIMEOUT_MS,
        "rows": rows,
        "cluster_over_node": {q: round(rows[1][q] / rows[0][q], 2) for q in ("p50_ms", "p99_ms", "mean_ms")},
        "failovers": failovers,
        "machine": machine(),
        "attribution": "synthetic contexts (bench.redis_cluster); Redis " + redis_version(),
    }


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[2].removeprefix("v=")


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "redis_cluster.json", f"{QUICK_CONTEXTS} contexts, {QUICK_ROUNDS} rounds, one kill")
    args = parse(parser, argv)
    finish(run(args.quick), args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
