"""What an operator sees of a running worker: /metrics before and after traffic, /readyz following Redis.

A real worker process, the session's broker, and (for readiness) a Redis server owned by the test
that the test freezes with CLIENT PAUSE, as a Redis wedged by a slow command would be, and wipes.
"""

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import redis

from compressor.epoch import EpochStore
from tests.conftest import free_port
from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for
from tests.metrics_doc import documented_metrics
from worker.service import context_store
from worker.settings import Settings

# How long a frozen Redis may take to show on /readyz: the check's 0.5 s timeout, its 1 s cache, slack.
NOT_READY_WITHIN_S = 5.0
FREEZE_MS = 4000


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:  # not listening yet
        return 0, str(err)


def series(name: str, value: str, **labels: str) -> re.Pattern[str]:
    """A sample line of `name` with these labels (among others, such as the OpenTelemetry scope's)."""
    wanted = "".join(rf'(?=[^}}]*\b{key}="{re.escape(label)}")' for key, label in labels.items())
    return re.compile(rf"^{name}\{{{wanted}[^}}]*\}} {re.escape(value)}$", re.MULTILINE)


def exported_metrics(text: str) -> set[str]:
    """Metric family names on a Prometheus page (its # TYPE lines)."""
    return set(re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE))


def test_metrics_are_there_before_traffic_and_each_documented_one_after(cluster: Cluster) -> None:
    worker = cluster.start_worker("--role", "all")
    queries = cluster.topics["queries"]
    lag = series("rankstream_consumer_lag", "0.0", partition="0", topic=queries)
    wait_for(lambda: lag.search(get(worker.http_port, "/metrics")[1]) is not None, "lag series on /metrics")
    before = get(worker.http_port, "/metrics")[1]
    assert series("rankstream_dead_letters_total", "0.0", reason="invalid_json", topic=queries).search(before)
    assert re.search(r"^process_resident_memory_bytes \d", before, re.MULTILINE)
    assert re.search(r"^process_cpu_seconds_total \d", before, re.MULTILINE)

    cluster.produce("postings", "j1", {"job_id": "j1", "title": "ICU nurse", "description": "Night shifts."})
    cluster.flush()
    wait_for(lambda: cluster.committed("postings", 4) == 1, "the posting stored")
    cluster.produce("queries", "r1", {"request_id": "r1", "query": "nurse", "candidate_job_ids": ["j1", "j2"]})
    cluster.produce("queries", "bad", b"{not json")
    cluster.flush()
    wait_for(lambda: cluster.committed("queries", 4) == 2, "the query answered and the bad one dead-lettered")
    after = get(worker.http_port, "/metrics")[1]
    assert series("rankstream_dead_letters_total", "1.0", reason="invalid_json", topic=queries).search(after)
    for histogram in ("context_fetch_seconds", "forward_seconds", "end_to_end_latency_seconds", "request_items"):
        assert series(f"rankstream_{histogram}_count", "1.0").search(after), histogram
    documented, exported = documented_metrics(), exported_metrics(after)
    assert documented <= exported, f"documented, not exported: {sorted(documented - exported)}"
    ours = {name for name in exported if name.startswith("rankstream_")}
    assert ours <= documented, f"exported, not documented in docs/metrics.md: {sorted(ours - documented)}"


@pytest.fixture()
def own_redis() -> Iterator[str]:
    """A Redis server this test may freeze: its URL."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: _answers(url), "the test's redis-server")
    yield url
    server.terminate()
    server.wait(10)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def test_readiness_follows_a_frozen_redis_and_a_wiped_store(cluster: Cluster, own_redis: str) -> None:
    store = context_store(Settings(redis_url=own_redis, model_path=cluster.env["RANKSTREAM_MODEL_PATH"]))
    epochs = EpochStore(store.client, store.namespace)
    epochs.mark_ready(epochs.begin())  # a store the postings workers have built
    # One node of its own, whatever the session's Redis is (`TEST_REDIS_CLUSTER`): CLIENT PAUSE is one node's.
    worker = cluster.start_worker("--role", "queries", RANKSTREAM_REDIS_URL=own_redis, RANKSTREAM_REDIS_CLUSTER="false")
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "ready")
    redis.Redis.from_url(own_redis).execute_command("CLIENT", "PAUSE", str(FREEZE_MS))
    frozen_at = time.monotonic()
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 503, "not ready", timeout_s=NOT_READY_WITHIN_S)
    assert "not ready: redis: TimeoutError" in get(worker.http_port, "/readyz")[1]
    assert time.monotonic() - frozen_at < FREEZE_MS / 1e3, "noticed while Redis was still frozen"
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "ready again", timeout_s=FREEZE_MS / 1e3 + 5)
    assert get(worker.http_port, "/healthz")[0] == 200, "a frozen dependency is no reason to restart"
    store.client.flushall()  # Redis restarted empty: no postings worker here rebuilds it
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 503, "not ready", timeout_s=NOT_READY_WITHIN_S)
    assert "not ready: context store: missing" in get(worker.http_port, "/readyz")[1]
