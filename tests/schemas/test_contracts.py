"""The wire contracts: defaults, strictness, size limits, and JSON Schema export."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import (
    DeadLetter,
    JobPosting,
    JobPostingDelete,
    RankedResults,
    export_json_schemas,
    parse_posting_event,
    parse_search_query,
)
from schemas.limits import MAX_CANDIDATES, MAX_DESCRIPTION_CHARS, MAX_QUERY_CHARS


def posting(**fields: object) -> bytes:
    return json.dumps({"job_id": "j1", "title": "Nurse", "description": "ICU", **fields}).encode()


def test_op_defaults_to_upsert_and_delete_needs_only_the_id() -> None:
    event = parse_posting_event(posting(updated_at="2024-05-01T10:00:00+02:00"))
    assert isinstance(event, JobPosting) and event.updated_at.utcoffset().total_seconds() == 7200
    assert isinstance(parse_posting_event(b'{"op": "delete", "job_id": "j1"}'), JobPostingDelete)


@pytest.mark.parametrize(
    "raw",
    [
        posting(job_id=7),  # strict: no int -> str coercion
        posting(title=""),
        posting(job_id="   "),
        posting(updated_at="2024-05-01T10:00:00"),  # RFC 3339 needs an offset
        posting(description="x" * (MAX_DESCRIPTION_CHARS + 1)),
        posting(skills=["python", ""]),
        b'{"op": "delete"}',
        b'{"op": "archive", "job_id": "j1"}',
    ],
)
def test_invalid_postings_are_rejected(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_posting_event(raw)


def query(**fields: object) -> bytes:
    return json.dumps(
        {"request_id": "r1", "query": "python developer", "candidate_job_ids": ["a", "b"], **fields}
    ).encode()


def test_query_defaults_and_limits() -> None:
    assert parse_search_query(query()).top_k is None
    assert parse_search_query(query(candidate_job_ids=[str(i) for i in range(MAX_CANDIDATES)])).query
    for bad in (
        query(candidate_job_ids=[]),
        query(candidate_job_ids=["a", "a"]),
        query(top_k=0),
        query(query="q" * (MAX_QUERY_CHARS + 1)),
        query(top_k="3"),
        query(candidate_job_ids=[str(i) for i in range(MAX_CANDIDATES + 1)]),
    ):
        with pytest.raises(ValidationError):
            parse_search_query(bad)


def test_first_stage_scores_are_one_finite_number_per_candidate() -> None:
    assert parse_search_query(query(candidate_scores=[12, 3.5])).candidate_scores == [12.0, 3.5]
    assert parse_search_query(query()).candidate_scores is None
    for scores in ([1.0], [1.0, 2.0, 3.0], [1.0, "2"]):
        with pytest.raises(ValidationError):
            parse_search_query(query(candidate_scores=scores))
    with pytest.raises(ValidationError, match="finite"):
        parse_search_query(
            b'{"request_id": "r", "query": "q", "candidate_job_ids": ["a"], "candidate_scores": [1e999]}'
        )


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert parse_search_query(query(locale="en-US")).request_id == "r1"


def test_dead_letter_headers_round_trip() -> None:
    letter = DeadLetter(reason="oversized", error="too big", topic="t", partition=3, offset=42, worker="w")
    assert DeadLetter.from_headers(letter.to_headers() + [("other", b"x")]) == letter


def test_export_writes_a_json_schema_per_event(tmp_path: Path) -> None:
    written = {p.name: json.loads(p.read_text()) for p in export_json_schemas(tmp_path)}
    assert set(written) == {
        "job-posting.schema.json",
        "search-query.schema.json",
        "ranked-results.schema.json",
        "dead-letter-headers.schema.json",
    }
    assert set(written["search-query.schema.json"]["required"]) == {"request_id", "query", "candidate_job_ids"}
    results = written["ranked-results.schema.json"]
    assert {"request_id", "results", "unscored", "model", "compressor"} <= set(results["properties"])
    assert "oneOf" in json.dumps(written["job-posting.schema.json"]) or "anyOf" in json.dumps(
        written["job-posting.schema.json"]
    )
    RankedResults.model_validate(
        {
            "request_id": "r",
            "results": [{"job_id": "a", "score": 0.5, "rank": 1}],
            "unscored": [],
            "model": "m",
            "compressor": "c@1",
        }
    )
