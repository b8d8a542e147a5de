"""Ranked-results events (topic `ranked-results`, keyed by request_id).

Every candidate of the request appears exactly once: in `results` (score descending, rank from 1,
cut to top_k) or in `unscored` with a reason. Candidates cut by top_k are left out of both.
Results are idempotent per request_id: a redelivered query yields an equal event.

`degraded` is set when the ranking is not the model's. With "deadline_exceeded" the query could not be
scored by its deadline: if it carried `candidate_scores`, every candidate is ranked by them (each
score the sigmoid of its standardised first-stage score); otherwise every candidate is unscored with
reason "deadline_exceeded".

A candidate is unscored with "context_store_rebuilding" when it has no context while the context
store is missing (Redis restarted empty) or being rebuilt from the postings topic: it may exist.

`table_behind` is true when the query was scored before every postings partition had caught up to
the query's Kafka timestamp (the wait, `RANKSTREAM_TABLE_WAIT_MS`, ran out): postings sent before the
query may not be reflected. Otherwise the ranking sees the postings table as of the query's event.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.postings import JobId
from schemas.queries import RequestId

# Why a candidate could not be scored. A closed set, so consumers can switch on it.
UnscoredReason = Literal[
    "missing_context", "scoring_failed", "deadline_exceeded", "context_store_rebuilding", "context_store_unavailable"
]
# Why a result is not the model's ranking. A closed set, like UnscoredReason.
DegradedReason = Literal["deadline_exceeded"]


class ScoredJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: JobId
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    rank: Annotated[int, Field(ge=1)]


class UnscoredJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: JobId
    reason: UnscoredReason


class RankedResults(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: RequestId
    results: list[ScoredJob]
    unscored: list[UnscoredJob]
    model: str = Field(description="Name of the scoring model (its directory name and config hash).")
    compressor: str = Field(description="name@version of the compressor that made the contexts.")
    degraded: DegradedReason | None = Field(None, description="Set when the ranking is not the model's.")
    table_behind: bool = Field(
        False, description="Scored before the postings table caught up to the query (the wait ran out)."
    )
