"""Rank: scores become the ranked-results event of one request.

Every candidate appears exactly once: scored ones in `results` (score descending, ties broken by the
candidate's position in the request, rank from 1, cut to top_k), the rest in `unscored`.
"""

from collections.abc import Sequence

from schemas import RankedResults, ScoredJob, SearchQuery, UnscoredJob, UnscoredReason


def rank(
    query: SearchQuery, scores: dict[str, float], unscored: dict[str, UnscoredReason], model: str, compressor: str
) -> RankedResults:
    order = {job_id: i for i, job_id in enumerate(query.candidate_job_ids)}
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
