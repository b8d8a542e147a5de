"""Controls of the local Redis Cluster `rankstream dev up` starts, for tests and benchmarks of failures.

`nodes(settings)` reads CLUSTER NODES from any live node (port -> flags, node and master ids);
`replica_of` names a master's replica, `promoted` says a node now serves as a master; `kill_node`
sends `kill -9` to a node (its pid from `<home>/run/`); `replicated` waits until a master's replica
has taken everything the master wrote (replication is asynchronous: a kill before it loses writes).
`rankstream dev up` starts killed nodes again. Ignores one-node Redis (`bench.faults_stack`).
"""

import os
import signal
import time

from cli.dev import redis_services
from worker.redis_client import node_client
from worker.settings import Settings

# Replicas copy a master's writes within milliseconds here; ample for a busy machine.
REPLICATION_TIMEOUT_S = 10.0
POLL_S = 0.05


def nodes(settings: Settings) -> dict[int, dict]:
    """Each node's port -> its entry in CLUSTER NODES (flags, master_id, node_id), asked of a live node."""
    for service in redis_services(settings):
        if service.answers():
            with node_client(settings, service.port) as client:
                table = client.cluster("nodes")
            return {int(addr.split(":")[1].split("@")[0]): entry for addr, entry in table.items()}
    raise RuntimeError("no node of the local cluster answers")


def replica_of(settings: Settings, port: int) -> int:
    table = nodes(settings)
    return next(p for p, e in table.items() if e["master_id"] == table[port]["node_id"])


def promoted(settings: Settings, port: int) -> bool:
    return "master" in nodes(settings)[port]["flags"]


def kill_node(settings: Settings, port: int) -> None:
    """`kill -9` of the node on `port` (its pid written by `rankstream dev up`)."""
    os.kill(int((settings.home / "run" / f"redis-{port}.pid").read_text()), signal.SIGKILL)


def replicated(settings: Settings, port: int, timeout_s: float = REPLICATION_TIMEOUT_S) -> bool:
    """Whether the master on `port` has a replica that has taken all it wrote, within `timeout_s`."""
    with node_client(settings, port) as master:

        def caught_up() -> bool:
            info = master.info("replication")
            replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
            return any(r["offset"] >= info["master_repl_offset"] for r in replicas)

        deadline = time.monotonic() + timeout_s
        while not caught_up():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_S)
        return True
