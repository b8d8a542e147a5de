"""The local Redis Cluster of `rankstream dev up` (with `RANKSTREAM_REDIS_CLUSTER`): three masters and
`RANKSTREAM_REDIS_CLUSTER_REPLICAS` replicas of each, on consecutive ports from the URL's.

`node_ports(port, replicas)` names the ports; `node_options(run_dir, port)` the redis-server options
of one node: cluster mode, a node timeout short enough for a failover in seconds, and its own directory
under `<home>/run/` holding its cluster config and an append-only file, so a killed node that `dev up`
starts again rejoins with its slots and its data (`dev down` deletes the directories: nothing is kept
between sessions). `form(settings, host, ports, tls_options)` runs `redis-cli --cluster create` once (with
the URL's password, and redis-cli's TLS options), on nodes that know no cluster yet, then waits until every
node reports `cluster_state:ok` and knows every node, and every replica as one.
For development and tests only; production points the workers at a managed cluster (README).
Ignores how the nodes listen (plain text or TLS: `cli.dev`, `cli.dev_tls`).
"""

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from worker.redis_client import node_client
from worker.settings import Settings

# `redis-cli --cluster create` needs at least three masters (a majority must survive one failure).
MASTERS = 3
# A master silent this long is failed (and its replica promoted): seconds, not Redis' default 15 s,
# so tests and `bench.redis_cluster` see failovers complete quickly.
NODE_TIMEOUT_MS = 2000
# Forming the cluster (slots assigned, gossip settled) or a restarted node rejoining takes a few seconds.
FORM_TIMEOUT_S = 60.0
FORM_POLL_S = 0.1
# A node that does not answer its cluster state within this is not ok yet.
STATE_TIMEOUT_S = 1.0


def node_ports(port: int, replicas: int) -> list[int]:
    return [port + i for i in range(MASTERS * (1 + replicas))]


def node_dir(run_dir: Path, port: int) -> Path:
    return run_dir / f"redis-{port}"


def node_options(run_dir: Path, port: int) -> list[str]:
    return [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        str(NODE_TIMEOUT_MS),
        "--dir",
        str(node_dir(run_dir, port)),
        "--appendonly",
        "yes",
    ]


def _state(settings: Settings, port: int) -> tuple[str, int, int]:
    """A node's cluster state (`ok` or `fail`), how many nodes it knows, and how many as replicas."""
    with node_client(settings, port, STATE_TIMEOUT_S) as node:
        info, table = node.cluster("info"), node.cluster("nodes")
    return str(info["cluster_state"]), len(table), sum("slave" in e["flags"] for e in table.values())


def form(settings: Settings, host: str, ports: list[int], tls_options: list[str]) -> str:
    """Create the cluster if its nodes know none yet, then wait for every node to say `ok`."""
    formed, replicas = "formed", settings.redis_cluster_replicas
    if all(_state(settings, p)[1] == 1 for p in ports):
        command = [shutil.which("redis-cli") or "redis-cli", "--cluster", "create", *[f"{host}:{p}" for p in ports]]
        command += ["--cluster-replicas", str(replicas), "--cluster-yes", *tls_options]
        password = urlparse(settings.redis_url.get_secret_value()).password
        # The password by environment: off the command line, so out of `ps` and of a failure's message.
        env = {**os.environ, **({"REDISCLI_AUTH": password} if password else {})}
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=FORM_TIMEOUT_S, env=env)
        formed = "created"
    deadline = time.monotonic() + FORM_TIMEOUT_S
    whole = ("ok", len(ports), MASTERS * replicas)
    while any(_state(settings, p) != whole for p in ports):
        if time.monotonic() > deadline:
            raise RuntimeError(f"local Redis Cluster at {host}:{ports[0]} not ok; `rankstream dev down` resets it")
        time.sleep(FORM_POLL_S)
    return f"redis cluster: {formed}, {MASTERS} masters, {replicas} replica(s) each, ports {ports[0]}-{ports[-1]}"


def make_dirs(run_dir: Path, ports: list[int]) -> None:
    for port in ports:
        node_dir(run_dir, port).mkdir(parents=True, exist_ok=True)


def remove_dirs(run_dir: Path, ports: list[int]) -> None:
    for port in ports:
        shutil.rmtree(node_dir(run_dir, port), ignore_errors=True)
