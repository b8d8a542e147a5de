"""The examples, run as a user runs them, against the dev broker and a worker: postings, queries, results."""

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# A request id and the trace id of the traceparent printed on its line (by the producer and the consumer).
TRACE = re.compile(r"^(?:sent )?(ex-\d)\b.* traceparent=00-([0-9a-f]{32})-", re.MULTILINE)


def example(cluster: Cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / args[0]), *args[1:]],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_example_producer_and_consumer_work_against_the_dev_broker(cluster: Cluster) -> None:
    cluster.start_worker("--role", "all")
    postings = example(cluster, "producer.py", "postings")
    assert postings.returncode == 0 and "delivered 3 postings" in postings.stdout, postings.stderr
    wait_for(lambda: cluster.committed("postings", 4) == 3, "the postings stored")
    queries = example(cluster, "producer.py", "queries")
    assert queries.returncode == 0 and "delivered 2 queries" in queries.stdout, queries.stderr

    results = example(cluster, "consumer.py", "--wait", "ex-1", "ex-2", "--timeout", "90")
    assert results.returncode == 0, results.stderr
    lines = {line.split(":")[0]: line for line in results.stdout.splitlines()}
    assert set(lines) == {"ex-1", "ex-2"}
    for line in lines.values():
        assert all(job in line for job in ("ex-nurse", "ex-python", "ex-barista")) and "unscored" not in line
    sent = dict(TRACE.findall(queries.stdout))
    assert sent.keys() == {"ex-1", "ex-2"}
    assert {request: trace for request, trace in TRACE.findall(results.stdout)} == sent, (
        "each result continues its query's trace"
    )
