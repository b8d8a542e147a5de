"""Outputs the broker can never take must not stall a partition or crash the worker.

A message just under the broker's 1 MB cap is dead-lettered as oversized; its byte-for-byte copy plus
the dead-letter headers exceed `message.max.bytes`, so the copy goes out truncated (saying so in a
header), the offset moves on, and the good query behind it is answered.
"""

import json

from schemas import DeadLetter, RankedResults
from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for
from worker.publish import TRUNCATED_HEADER, TRUNCATED_VALUE_BYTES

HUGE_BYTES = 999_900


def test_a_dead_letter_too_large_for_the_broker_goes_out_truncated(cluster: Cluster) -> None:
    worker = cluster.start_worker("--role", "queries")
    huge = json.dumps({"request_id": "huge", "query": "x" * HUGE_BYTES, "candidate_job_ids": ["a"]}).encode()
    huge = huge[:HUGE_BYTES]
    good = {"request_id": "after-huge", "query": "nurse", "candidate_job_ids": ["a"]}
    cluster.produce("queries", "same-key", huge)  # one key: the good query waits behind the huge one
    cluster.produce("queries", "same-key", good)
    cluster.flush()

    results = cluster.read("results", lambda ms: len(ms) >= 1)
    assert RankedResults.model_validate_json(results[0].value()).request_id == "after-huge"
    [dead] = cluster.read("dlq", lambda ms: len(ms) >= 1)
    headers = dict(dead.headers())
    assert DeadLetter.from_headers(dead.headers()).reason == "oversized"
    assert headers[TRUNCATED_HEADER] == str(HUGE_BYTES).encode()
    assert dead.value() == huge[:TRUNCATED_VALUE_BYTES]
    wait_for(lambda: cluster.committed("queries", 4) == 2, "both offsets committed")
    assert worker.poll() is None, "the worker is still running"
    assert cluster.stop_workers() == [0]
