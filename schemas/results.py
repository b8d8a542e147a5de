"""Ranked-results events (topic `ranked-results`, keyed by request_id).

Every candidate of the request appears exactly once: in `results` (score descending, rank from 1,
cut to top_k) or in `unscored` with a reason. Candidates cut by top_k are left out of both.
Results are idempotent per request_id: a redelivered query yields an equal event.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.postings import JobId
from schemas.queries import RequestId

# Why a candidate could not be scored. A closed set, so consumers can switch on it.
UnscoredReason = Literal["missing_context", "scoring_failed"]


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
