"""Deadline semantics: when an answer is due, and what a degraded answer holds."""

import json
import time
from datetime import UTC, datetime, timedelta

from schemas import absolute_deadline, json_schemas, parse_search_query
from worker.kafka import Source
from worker.rank import degraded
from worker.score import PendingQuery, ScoringRate

SENT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def query(**fields: object) -> bytes:
    return json.dumps({"request_id": "r", "query": "nurse", "candidate_job_ids": ["a", "b", "c"], **fields}).encode()


def source(sent: datetime) -> Source:
    return Source("q", 0, 7, b"r", b"", time.monotonic(), sent)


def test_absent_deadline_is_none_unless_settings_give_a_default() -> None:
    q = parse_search_query(query())
    assert absolute_deadline(q, SENT, None) is None
    assert absolute_deadline(q, SENT, 2000) == SENT + timedelta(seconds=2)


def test_relative_and_absolute_deadlines_the_earlier_wins() -> None:
    relative = parse_search_query(query(deadline_ms=1500))
    assert absolute_deadline(relative, SENT, 60_000) == SENT + timedelta(milliseconds=1500)
    at = SENT + timedelta(seconds=1)
    both = parse_search_query(query(deadline_ms=5000, deadline_at=at.isoformat()))
    assert absolute_deadline(both, SENT, None) == at
    only_at = parse_search_query(query(deadline_at=at.isoformat()))
    assert absolute_deadline(only_at, SENT, 60_000) == at, "a query's own deadline beats the default"


def test_expired_near_and_absent_deadlines_on_the_monotonic_clock() -> None:
    now = datetime.now(UTC)
    expired = PendingQuery.of(source(now - timedelta(seconds=10)), parse_search_query(query(deadline_ms=1000)))
    near = PendingQuery.of(source(now), parse_search_query(query(deadline_ms=300)))
    absent = PendingQuery.of(source(now), parse_search_query(query()))
    assert expired.deadline is not None and expired.deadline < time.monotonic() - 8
    assert near.deadline is not None and 0.1 < near.deadline - time.monotonic() <= 0.3
    assert absent.deadline is None


def test_a_degraded_answer_ranks_by_first_stage_scores_when_it_has_them() -> None:
    q = parse_search_query(query(candidate_scores=[1.0, 7.0, 3.0], top_k=2))
    answer = degraded(q, "deadline_exceeded", "m", "c@1")
    assert answer.degraded == "deadline_exceeded"
    assert [r.job_id for r in answer.results] == ["b", "c"] and [r.rank for r in answer.results] == [1, 2]
    assert all(0.0 <= r.score <= 1.0 for r in answer.results) and answer.results[0].score > 0.5
    assert answer.unscored == []


def test_a_degraded_answer_without_first_stage_scores_lists_every_candidate_unscored() -> None:
    answer = degraded(parse_search_query(query()), "deadline_exceeded", "m", "c@1")
    assert answer.degraded == "deadline_exceeded" and answer.results == []
    assert [(u.job_id, u.reason) for u in answer.unscored] == [(j, "deadline_exceeded") for j in "abc"]


def test_the_new_fields_are_in_the_exported_schemas() -> None:
    schemas = json_schemas()
    query_schema = next(s for name, s in schemas.items() if "query" in name.lower())
    result_schema = next(s for name, s in schemas.items() if "result" in name.lower())
    assert {"deadline_ms", "deadline_at"} <= set(query_schema["properties"])
    assert "degraded" in result_schema["properties"]
    assert "deadline_exceeded" in json.dumps(result_schema)


def test_a_batch_is_expected_to_run_as_slowly_as_the_slowest_recent_batch() -> None:
    rate = ScoringRate(window=3)
    assert rate.finish(10.0, 1000) == 10.0, "nothing known before the first batch: nothing is doomed"
    for seconds in (1.0, 3.0, 2.0):  # a cold batch among warm ones
        rate.record(seconds, 1000)
    assert rate.finish(10.0, 500) == 11.5
    rate.record(1.0, 1000)
    rate.record(1.0, 1000)
    assert rate.finish(10.0, 500) == 11.0, "the cold batch has left the window"
