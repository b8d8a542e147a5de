"""Backpressure and commit-after-delivery, in-process, on the real broker.

A stage whose model is "stuck" (a gate) must make the loop pause its partitions at the in-flight
limit while it keeps polling, commit nothing undelivered, and resume and finish once unstuck.
"""

import threading
import time

import pytest

from schemas import RankedResults, parse_search_query
from tests.integration.conftest import Cluster
from tests.integration.test_end_to_end import wait_for
from worker.batch import Batch, Batcher
from worker.commit import OffsetTracker
from worker.kafka import make_producer
from worker.loop import ConsumeLoop, Route
from worker.publish import Publisher
from worker.score import PendingQuery
from worker.settings import Settings
from worker.stage import Stage
from worker.telemetry import Telemetry
from worker.validate import Validator

QUERIES = 20


@pytest.mark.parametrize("limit", [4, 1])  # 1: resuming must not wait for fewer than none in flight
def test_loop_pauses_at_the_limit_and_commits_only_delivered_results(cluster: Cluster, limit: int) -> None:
    settings = Settings(
        **{k[len("RANKSTREAM_") :].lower(): v for k, v in cluster.env.items() if k.startswith("RANKSTREAM_")},
        max_inflight_requests=limit,
        http_port=0,
    )
    tracker = OffsetTracker()
    group = settings.consumer_group("queries")
    telemetry = Telemetry(settings, group)
    publisher = Publisher(
        make_producer(settings), tracker, telemetry.metrics, settings.topic_results, settings.topic_dlq, "test"
    )
    gate = threading.Event()

    def handle(batch: Batch[PendingQuery]) -> None:
        gate.wait()
        for pending in batch.items:
            result = RankedResults(
                request_id=pending.query.request_id, results=[], unscored=[], model="m", compressor="c@1"
            )
            publisher.result(pending.source, result)

    stage = Stage("queries", Batcher(lambda _: 1, 2, 0.01), handle, lambda item, exc: None)
    route = Route(Validator(parse_search_query), lambda src, q: PendingQuery(src, q, time.monotonic()), stage)
    loop = ConsumeLoop(settings, group, {settings.topic_queries: route}, publisher, tracker, telemetry)
    for i in range(QUERIES):
        cluster.produce("queries", f"q{i}", {"request_id": f"q{i}", "query": "x", "candidate_job_ids": ["a"]})
    cluster.flush()
    runner = threading.Thread(target=lambda: setattr(loop, "exit_code", loop.run()))
    runner.start()
    try:
        wait_for(lambda: loop.paused, "partitions paused")
        assert tracker.in_flight() == limit, "never more in flight than the limit"
        heartbeat = loop.heartbeat
        time.sleep(0.3)
        assert loop.heartbeat > heartbeat, "the loop keeps polling while paused"
        assert cluster.committed("queries", 4) == 0, "nothing is delivered, so nothing may be committed"
        gate.set()
        wait_for(lambda: cluster.committed("queries", 4) == QUERIES, "all offsets committed")
        assert not loop.paused
    finally:
        gate.set()
        loop.stop_requested.set()
        runner.join(30)
    assert loop.exit_code == 0
    results = cluster.read("results", lambda ms: len(ms) >= QUERIES)
    assert {m.key().decode() for m in results} == {f"q{i}" for i in range(QUERIES)}
