"""Rank: scores become the ranked-results event of one request.

Every candidate appears exactly once: scored ones in `results` (score descending, ties broken by the
candidate's position in the request, rank from 1, cut to top_k), the rest in `unscored`. When the
query carries first-stage `candidate_scores` and `first_stage_weight` > 0, a result's score is the
model's blended with them (`slm.blend`, over the scored candidates).
"""

from collections.abc import Sequence

from schemas import RankedResults, ScoredJob, SearchQuery, UnscoredJob, UnscoredReason
from slm.blend import blend


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
