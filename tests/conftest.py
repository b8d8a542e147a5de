"""Shared fixtures: the project's home for cached downloads, a tiny random model, and real services:
a broker with one Redis node (`dev_services`), and a broker with a local Redis Cluster of 3 masters
(`cluster_services`), each started by `rankstream dev up` for the session and stopped after it; with a
`rediss://` URL, `dev up`'s TLS Redis, the worker's settings naming its throwaway CA.
`store_client` is a flushed client of each in turn: store tests run on one node and on a cluster.

Tests never reach a model hub (HF_HUB_OFFLINE=1). The tiny model uses the real SmolLM2 tokenizer,
taken from the base GGUF cached under RANKSTREAM_HOME (default `.rankstream/` at the project root).
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from cli.dev import dev_ca, free_port, free_ports
from cli.dev_cluster import MASTERS
from compressor.client import StoreClient
from worker.redis_client import redis_client as store_client_of
from worker.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def home() -> Path:
    """Where downloads and models are cached between test runs."""
    return Path(os.environ.get("RANKSTREAM_HOME", PROJECT_ROOT / ".rankstream")).resolve()


@pytest.fixture(scope="session")
def tiny_model_dir(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from slm.weights.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny-model"), home)


@dataclass(frozen=True)
class DevServices:
    """A broker and a Redis started by `rankstream dev up`, and the environment that points at them."""

    env: dict[str, str]
    bootstrap: str
    redis_url: str
    redis_cluster: bool = False

    def settings(self) -> Settings:
        """The settings `env` gives a worker."""
        prefix = Settings.model_config["env_prefix"]
        return Settings(**{k.removeprefix(prefix).lower(): v for k, v in self.env.items() if k.startswith(prefix)})

    def store_client(self) -> StoreClient:
        """A client of this Redis, the kind the worker makes (`worker.redis_client`)."""
        return store_client_of(self.settings())

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RANKSTREAM, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=True
        )


CLUSTER_PASSWORD = "cluster-secret"  # the session cluster's: a password in the URL reaches every node
RANKSTREAM = str(Path(sys.executable).parent / "rankstream")


def started(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, redis_cluster: bool = False, **settings: str
) -> DevServices:
    """Tansu and Redis (a local cluster with `redis_cluster`) started by `rankstream dev up` on free
    ports, in a home of their own, with more settings (a `rediss://` URL: TLS, trusting `dev up`'s CA)."""
    run_home = tmp_path_factory.mktemp("rankstream-home")
    if redis_url.startswith("rediss://"):
        settings = {"redis_ssl_ca_certs": str(dev_ca(Settings(home=run_home))), **settings}
    bootstrap = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "RANKSTREAM_HOME": str(run_home),
        "RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "RANKSTREAM_REDIS_URL": redis_url,
        "RANKSTREAM_REDIS_CLUSTER": str(redis_cluster).lower(),
        **{f"RANKSTREAM_{name.upper()}": value for name, value in settings.items()},
    }
    services = DevServices(env, bootstrap, redis_url, redis_cluster)
    try:
        services.run("dev", "up")
    except subprocess.CalledProcessError as failed:
        services.run("dev", "down")  # what did start
        raise RuntimeError(f"rankstream dev up failed:\n{failed.stdout}{failed.stderr}") from failed
    return services


@pytest.fixture(scope="session")
def dev_services(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[DevServices]:
    """Real Tansu and Redis on free ports, for the whole session (started in well under a second)."""
    services = started(tmp_path_factory, f"redis://127.0.0.1:{free_port()}/0")
    yield services
    services.run("dev", "down")


@pytest.fixture(scope="session")
def cluster_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServices]:
    """Real Tansu and a Redis Cluster of 3 masters on free ports, for the whole session (formed in ~3 s),
    with a password: auth as for one node."""
    url = f"redis://:{CLUSTER_PASSWORD}@127.0.0.1:{free_ports(MASTERS)}/0"
    services = started(tmp_path_factory, url, redis_cluster=True)
    yield services
    services.run("dev", "down")


@pytest.fixture()
def redis_client(dev_services: DevServices) -> Iterator[redis.Redis]:
    """A client of the session's Redis, flushed before each test."""
    client = redis.Redis.from_url(dev_services.redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(params=["one node", "cluster"])
def store_client(request: pytest.FixtureRequest) -> Iterator[StoreClient]:
    """A client of the session's Redis node, then of its Redis Cluster (the worker's own kind of client
    for each), flushed before each test."""
    services: DevServices = request.getfixturevalue(
        "dev_services" if request.param == "one node" else "cluster_services"
    )
    client = services.store_client()
    client.flushall()
    yield client
    client.close()
