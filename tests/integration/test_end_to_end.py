"""The whole path on a real broker and a real Redis, with a worker process running the tiny model.

Postings (good, updated, stale, deleted, malformed) and queries (good and malformed) go in through
Kafka; ranked results and dead letters come out; committed offsets must cover every input message.
"""

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from schemas import DeadLetter, RankedResults
from schemas.limits import MAX_MESSAGE_BYTES
from tests.integration.conftest import Cluster

DEMO = Path(__file__).resolve().parents[2] / "cli" / "demo_data"
POSTINGS = [json.loads(line) for line in (DEMO / "postings.jsonl").read_text().splitlines()]
IDS = [p["job_id"] for p in POSTINGS]

BAD_POSTINGS = {
    b"{not json": "invalid_json",
    b"\xff\xfe\x00garbage": "invalid_json",
    json.dumps({"job_id": "x1", "description": "no title"}).encode(): "schema_violation",
    json.dumps({"op": "purge", "job_id": "x2"}).encode(): "schema_violation",
    json.dumps(
        {"job_id": "x3", "title": "t", "description": "d", "updated_at": "yesterday"}
    ).encode(): "schema_violation",
    json.dumps({"job_id": "x4", "title": "t", "description": "a" * (MAX_MESSAGE_BYTES + 10)}).encode(): "oversized",
}
BAD_QUERIES = {
    json.dumps({"request_id": "b1", "query": "x", "candidate_job_ids": ["a", "a"]}).encode(): "schema_violation",
    json.dumps({"request_id": "b2", "query": "x", "candidate_job_ids": []}).encode(): "schema_violation",
    json.dumps({"request_id": "b3", "query": "x", "candidate_job_ids": ["a"], "top_k": 0}).encode(): "schema_violation",
    json.dumps(
        {"request_id": "b4", "query": "x", "candidate_job_ids": [f"j{i}" for i in range(1001)]}
    ).encode(): "schema_violation",
    b'{"request_id": "b5", "query": ': "invalid_json",
}
GOOD_QUERIES = [
    {
        "request_id": "all-top5",
        "query": "python developer remote",
        "candidate_job_ids": [*IDS, "unknown-1"],
        "top_k": 5,
    },
    {"request_id": "deleted", "query": "barista", "candidate_job_ids": ["py-backend-01", "barista-20"]},
    {"request_id": "single", "query": "nurse", "candidate_job_ids": ["rn-icu-05"]},
]


def produce_postings(cluster: Cluster) -> int:
    for posting in POSTINGS:
        cluster.produce("postings", posting["job_id"], posting)
    stale = {**POSTINGS[9], "title": "STALE TITLE", "updated_at": "2020-01-01T00:00:00Z"}
    cluster.produce("postings", stale["job_id"], stale)
    cluster.produce("postings", "barista-20", {"op": "delete", "job_id": "barista-20"})
    for value in BAD_POSTINGS:
        cluster.produce("postings", "bad", value)
    cluster.flush()
    return len(POSTINGS) + 2 + len(BAD_POSTINGS)


def assert_follows_contract(result: RankedResults, query: dict) -> None:
    scored = [r.job_id for r in result.results]
    unscored = [u.job_id for u in result.unscored]
    assert len(set(scored + unscored)) == len(scored + unscored), "a candidate appears twice"
    top_k = query.get("top_k") or len(query["candidate_job_ids"])
    assert len(scored) == min(top_k, len(query["candidate_job_ids"]) - len(unscored))
    assert set(scored + unscored) <= set(query["candidate_job_ids"])
    if "top_k" not in query:
        assert set(scored + unscored) == set(query["candidate_job_ids"])
    assert [r.rank for r in result.results] == list(range(1, len(scored) + 1))
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert result.model == "tiny-random-llama" and result.compressor.startswith("extractive@")


def test_postings_and_queries_flow_through_to_results_and_dead_letters(cluster: Cluster) -> None:
    worker = cluster.start_worker("--role", "all", RANKSTREAM_COMPILE="true")
    postings_sent = produce_postings(cluster)
    cluster.read("postings", lambda ms: len(ms) >= postings_sent)  # all on the broker
    wait_for(lambda: cluster.committed("postings", 4) >= postings_sent, "postings offsets committed")

    for query in GOOD_QUERIES:
        cluster.produce("queries", query["request_id"], query)
    for value in BAD_QUERIES:
        cluster.produce("queries", "bad", value)
    cluster.flush()

    wanted = {q["request_id"] for q in GOOD_QUERIES}
    messages = cluster.read("results", lambda ms: wanted <= {m.key().decode() for m in ms})
    results = {m.key().decode(): RankedResults.model_validate_json(m.value()) for m in messages}
    for query in GOOD_QUERIES:
        assert_follows_contract(results[query["request_id"]], query)
    assert {(u.job_id, u.reason) for u in results["all-top5"].unscored} == {
        ("unknown-1", "missing_context"),
        ("barista-20", "missing_context"),
    }
    assert [(u.job_id, u.reason) for u in results["deleted"].unscored] == [("barista-20", "missing_context")]
    assert [r.job_id for r in results["single"].results] == ["rn-icu-05"]

    expected_dead = {**BAD_POSTINGS, **BAD_QUERIES}
    dead = cluster.read("dlq", lambda ms: len(ms) >= len(expected_dead))
    assert len(dead) == len(expected_dead)
    for message in dead:
        letter = DeadLetter.from_headers(message.headers())
        assert message.value() in expected_dead, "the dead letter must carry the original bytes"
        assert letter.reason == expected_dead[message.value()]
        assert letter.topic == cluster.topics["postings" if message.value() in BAD_POSTINGS else "queries"]
        assert letter.offset >= 0 and letter.partition >= 0 and letter.error

    queries_sent = len(GOOD_QUERIES) + len(BAD_QUERIES)
    wait_for(lambda: cluster.committed("queries", 4) == queries_sent, "query offsets committed")
    assert cluster.committed("postings", 4) == postings_sent

    stored = cluster.services.store_client()
    chef_key = next(stored.scan_iter(match=f"*:{POSTINGS[9]['job_id']}"))
    assert stored.hget(chef_key, "text").decode().startswith("Line Cook"), "a stale update must be ignored"

    port = worker.http_port
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    assert "rankstream_results_total" in metrics and 'reason="oversized"' in metrics
    assert "rankstream_prefix_cache_hit_ratio" in metrics and "rankstream_prefix_cache_bytes" in metrics
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").status == 200

    assert cluster.stop_workers() == [0]
    assert "compiled=True" in worker.stdout.read(), "RANKSTREAM_COMPILE must reach the engine"


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
