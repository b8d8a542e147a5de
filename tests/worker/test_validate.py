"""Validation names the reason a message is dead-lettered, cheapest check first."""

import json

import pytest

from schemas import JobPosting, parse_posting_event, parse_search_query
from schemas.limits import MAX_MESSAGE_BYTES
from worker.validate import Invalid, Validator

postings = Validator(parse_posting_event)


@pytest.mark.parametrize(
    ("raw", "reason", "says"),
    [
        (None, "invalid_json", "empty"),
        (b"{oops", "invalid_json", "JSON"),
        (b"\xc3\x28", "invalid_json", "JSON"),
        (b"[]", "schema_violation", "object"),
        (json.dumps({"job_id": "j", "title": "t"}).encode(), "schema_violation", "description"),
        (b"{" + b" " * MAX_MESSAGE_BYTES + b"}", "oversized", str(MAX_MESSAGE_BYTES)),
    ],
)
def test_each_failure_has_its_reason_and_a_clear_error(raw: bytes | None, reason: str, says: str) -> None:
    outcome = postings(raw)
    assert isinstance(outcome, Invalid)
    assert outcome.reason == reason and says in outcome.error


def test_errors_never_echo_the_input() -> None:
    secret = "s3cr3t-" + "x" * 1000
    outcome = Validator(parse_search_query)(json.dumps({"request_id": "r", "query": secret}).encode())
    assert isinstance(outcome, Invalid) and secret not in outcome.error


def test_valid_message_becomes_an_event() -> None:
    event = postings(json.dumps({"job_id": "j", "title": "t", "description": "d"}).encode())
    assert isinstance(event, JobPosting)
