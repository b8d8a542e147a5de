"""Deadlines end to end: a query whose deadline passed before it could be scored is answered at once,
degraded, while queries with time left (or none set) are scored by the model."""

import json
import time

from schemas import RankedResults
from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import IDS, POSTINGS, wait_for

CANDIDATES = IDS[:5]
QUERIES = {
    # sent a minute ago with 1 s to answer: past due on arrival
    "expired-scored": {"deadline_ms": 1000, "candidate_scores": [1.0, 5.0, 2.0, 4.0, 3.0]},
    "expired-bare": {"deadline_ms": 1000},
    "near": {"deadline_ms": 3_600_000},
    "absent": {},
}


def test_expired_queries_are_answered_degraded_and_the_rest_scored(cluster: Cluster) -> None:
    cluster.start_worker("--role", "all")
    for posting in POSTINGS[:5]:
        cluster.produce("postings", posting["job_id"], posting)
    cluster.flush()
    wait_for(lambda: cluster.committed("postings", 4) >= 5, "postings stored")
    a_minute_ago = int(time.time() * 1000) - 60_000
    for request_id, extra in QUERIES.items():
        value = {"request_id": request_id, "query": "python developer", "candidate_job_ids": CANDIDATES, **extra}
        cluster.producer.produce(
            cluster.topics["queries"], json.dumps(value).encode(), request_id.encode(), timestamp=a_minute_ago
        )
    cluster.flush()

    messages = cluster.read("results", lambda ms: len({m.key() for m in ms}) >= len(QUERIES))
    results = {m.key().decode(): RankedResults.model_validate_json(m.value()) for m in messages}
    by_first_stage = results["expired-scored"]
    assert by_first_stage.degraded == "deadline_exceeded"
    assert [r.job_id for r in by_first_stage.results] == [CANDIDATES[i] for i in (1, 3, 4, 2, 0)]
    bare = results["expired-bare"]
    assert bare.degraded == "deadline_exceeded" and bare.results == []
    assert {(u.job_id, u.reason) for u in bare.unscored} == {(j, "deadline_exceeded") for j in CANDIDATES}
    for request_id in ("near", "absent"):
        assert results[request_id].degraded is None
        assert sorted(r.job_id for r in results[request_id].results) == sorted(CANDIDATES)
    assert cluster.stop_workers() == [0]
