"""Shared fixtures: the project's home for cached downloads, and a tiny random model.

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

from cli.dev import free_port

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

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RANKSTREAM, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=True
        )


RANKSTREAM = str(Path(sys.executable).parent / "rankstream")


@pytest.fixture(scope="session")
def dev_services(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[DevServices]:
    """Real Tansu and Redis on free ports, for the whole session (started in well under a second)."""
    run_home = tmp_path_factory.mktemp("rankstream-home")
    bootstrap = f"127.0.0.1:{free_port()}"
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    env = {
        **os.environ,
        "RANKSTREAM_HOME": str(run_home),
        "RANKSTREAM_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "RANKSTREAM_REDIS_URL": redis_url,
    }
    services = DevServices(env, bootstrap, redis_url)
    services.run("dev", "up")
    yield services
    services.run("dev", "down")


@pytest.fixture()
def redis_client(dev_services: DevServices) -> Iterator[redis.Redis]:
    """A client of the session's Redis, flushed before each test."""
    client = redis.Redis.from_url(dev_services.redis_url)
    client.flushdb()
    yield client
    client.close()
