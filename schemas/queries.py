"""Search-query events (topic `search-queries`, keyed by request_id).

A query names its candidates; the worker ranks exactly those. Candidate ids are unique and bounded
(1 to `MAX_CANDIDATES`); `top_k` cuts the ranked list, never the unscored list. Optional
`candidate_scores` are the first stage's scores (BM25 or any retriever; higher is better), one finite
number per candidate in the same order: the worker blends them with the model's (`slm.blend`).

Deadlines (both optional; the earlier wins): `deadline_ms` counts from the message's Kafka timestamp,
`deadline_at` is absolute. A query that cannot be scored in time is answered on time, degraded
(`schemas.results`).
"""

from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas import limits
from schemas.postings import JobId

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_ID_CHARS, pattern=r"\S")]


class SearchQuery(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    request_id: RequestId
    query: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_QUERY_CHARS, pattern=r"\S")]
    candidate_job_ids: Annotated[list[JobId], Field(min_length=1, max_length=limits.MAX_CANDIDATES)]
    top_k: Annotated[int, Field(ge=1)] | None = None
    candidate_scores: list[Annotated[float, Field(allow_inf_nan=False)]] | None = None
    deadline_ms: Annotated[int, Field(ge=1, le=limits.MAX_DEADLINE_MS)] | None = Field(
        None, description="Answer within this many milliseconds of the message's Kafka timestamp."
    )
    deadline_at: AwareDatetime | None = Field(None, description="Answer by this time (RFC 3339, with a zone).")

    @field_validator("candidate_job_ids")
    @classmethod
    def _unique(cls, ids: list[str]) -> list[str]:
        repeated = sorted(job_id for job_id, n in Counter(ids).items() if n > 1)
        if repeated:
            raise ValueError(f"candidate_job_ids must be unique; repeated: {repeated[:5]}")
        return ids

    @model_validator(mode="after")
    def _one_score_per_candidate(self) -> "SearchQuery":
        if self.candidate_scores is not None and len(self.candidate_scores) != len(self.candidate_job_ids):
            raise ValueError(
                f"candidate_scores has {len(self.candidate_scores)} entries for "
                f"{len(self.candidate_job_ids)} candidate_job_ids; give one score per candidate"
            )
        return self


def absolute_deadline(query: SearchQuery, timestamp: datetime, default_ms: int | None) -> datetime | None:
    """When the answer is due: the earlier of `deadline_at` and `deadline_ms` after `timestamp`
    (`default_ms` standing in for a missing `deadline_ms` when the query has no deadline at all)."""
    relative = query.deadline_ms
    if relative is None and query.deadline_at is None:
        relative = default_ms
    due = [
        d for d in (query.deadline_at, None if relative is None else timestamp + timedelta(milliseconds=relative)) if d
    ]
    return min(due) if due else None


def parse_search_query(raw: bytes | str) -> SearchQuery:
    """Validate one wire message; raises pydantic.ValidationError on any violation."""
    return SearchQuery.model_validate_json(raw, strict=True)
