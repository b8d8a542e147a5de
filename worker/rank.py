"""Rank: scores become the ranked-results event of one request.

Every candidate appears exactly once: scored ones in `results` (score descending, ties broken by the
candidate's position in the request, rank from 1, cut to top_k), the rest in `unscored`. When the
query carries first-stage `candidate_scores` and `first_stage_weight` > 0, a result's score is the
model's blended with them (`slm.blend`, over the scored candidates).

`degraded` answers a query the model did not score (`schemas.results`): ranked by its first-stage
scores when it has them (each the sigmoid of its standardised score), else every candidate unscored.
"""

from collections.abc import Sequence

import numpy as np

from schemas import DegradedReason, RankedResults, ScoredJob, SearchQuery, UnscoredJob, UnscoredReason
from slm.blend import blend, standardised


def rank(
    query: SearchQuery,
    scores: dict[str, float],
    unscored: dict[str, UnscoredReason],
    model: str,
    compressor: str,
    first_stage_weight: float = 0.0,
) -> RankedResults:
    order = {job_id: i for i, job_id in enumerate(query.candidate_job_ids)}
    if query.candidate_scores is not None and first_stage_weight > 0 and scores:
        first = [query.candidate_scores[order[job_id]] for job_id in scores]
        scores = dict(zip(scores, blend(list(scores.values()), first, first_stage_weight).tolist(), strict=True))
    ranked: Sequence[str] = sorted(scores, key=lambda job_id: (-scores[job_id], order[job_id]))
    if query.top_k is not None:
        ranked = ranked[: query.top_k]
    return RankedResults(
        request_id=query.request_id,
        results=[
            ScoredJob(job_id=j, score=min(1.0, max(0.0, scores[j])), rank=r) for r, j in enumerate(ranked, start=1)
        ],
        unscored=[UnscoredJob(job_id=j, reason=reason) for j, reason in unscored.items()],
        model=model,
        compressor=compressor,
    )


def degraded(query: SearchQuery, reason: DegradedReason, model: str, compressor: str) -> RankedResults:
    if query.candidate_scores is None:
        unscored: dict[str, UnscoredReason] = dict.fromkeys(query.candidate_job_ids, reason)
        return RankedResults(
            request_id=query.request_id,
            results=[],
            unscored=[UnscoredJob(job_id=j, reason=r) for j, r in unscored.items()],
            model=model,
            compressor=compressor,
            degraded=reason,
        )
    scores = (1.0 / (1.0 + np.exp(-standardised(query.candidate_scores)))).tolist()
    ranked = rank(query, dict(zip(query.candidate_job_ids, scores, strict=True)), {}, model, compressor)
    return ranked.model_copy(update={"degraded": reason})
