"""At-least-once under churn: SIGTERM mid-stream, a second worker joining, and a restart.

Every query must end with a ranked result, every input offset must end committed, and a stopped
worker must have committed nothing whose result it had not delivered.
"""

import json
import time
from pathlib import Path

from confluent_kafka import Message

from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for

DEMO = Path(__file__).resolve().parents[2] / "cli" / "demo_data"
QUERIES = 60


def result_ids(messages: list[Message]) -> set[str]:
    return {m.key().decode() for m in messages}


def test_sigterm_drains_and_a_restarted_group_finishes_the_rest(cluster: Cluster) -> None:
    postings = [json.loads(line) for line in (DEMO / "postings.jsonl").read_text().splitlines()]
    for posting in postings:
        cluster.produce("postings", posting["job_id"], posting)
    cluster.flush()
    ids = [p["job_id"] for p in postings]
    first = cluster.start_worker(RANKSTREAM_MAX_INFLIGHT_REQUESTS="8")
    wait_for(lambda: cluster.committed("postings", 4) == len(postings), "postings stored")
    for i in range(QUERIES):
        cluster.produce("queries", f"q{i}", {"request_id": f"q{i}", "query": f"job {i}", "candidate_job_ids": ids})
    cluster.flush()

    cluster.read("results", lambda ms: len(result_ids(ms)) >= 5)  # mid-stream
    second = cluster.start_worker()  # joins the group: a rebalance while work is in flight
    time.sleep(1.0)
    first.terminate()
    assert first.wait(60) == 0, first.stdout.read()
    committed_at_stop = cluster.committed("queries", 4)
    delivered = result_ids(cluster.read("results", lambda ms: len(result_ids(ms)) >= committed_at_stop))
    assert len(delivered) >= committed_at_stop, "an offset was committed before its result was delivered"

    wait_for(lambda: cluster.committed("queries", 4) == QUERIES, "the remaining worker finished", timeout_s=120)
    everything = result_ids(cluster.read("results", lambda ms: len(result_ids(ms)) >= QUERIES))
    assert everything == {f"q{i}" for i in range(QUERIES)}
    assert second.poll() is None
    cluster.workers.remove(first)
    assert cluster.stop_workers() == [0]
