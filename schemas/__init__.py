"""Wire contracts of rankstream: pydantic v2 models of every event, JSON on the wire.

Imports nothing else of the project. See the module of each event for its rules.
"""

from schemas.dead_letters import DeadLetter, DeadLetterReason
from schemas.export import export_json_schemas, json_schemas
from schemas.postings import JobPosting, JobPostingDelete, PostingEvent, parse_posting_event
from schemas.queries import SearchQuery, absolute_deadline, parse_search_query
from schemas.results import DegradedReason, RankedResults, ScoredJob, UnscoredJob, UnscoredReason

__all__ = [
    "DeadLetter",
    "DeadLetterReason",
    "DegradedReason",
    "JobPosting",
    "JobPostingDelete",
    "PostingEvent",
    "RankedResults",
    "ScoredJob",
    "SearchQuery",
    "UnscoredJob",
    "UnscoredReason",
    "absolute_deadline",
    "export_json_schemas",
    "json_schemas",
    "parse_posting_event",
    "parse_search_query",
]
