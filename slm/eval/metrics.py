"""Ranking metrics of one query: NDCG@k, MRR@k, Recall@k; and their means over queries.

Contract: each function takes `ranked` (job ids, best first, as a system returned them) and
`grades` (job id -> graded relevance, for every judged posting of the whole collection; absent
means 0).
- NDCG@k uses exponential gains, 2^grade - 1 (grade 2 -> 3, grade 1 -> 1), and log2(rank + 1)
  discounts (Järvelin & Kekäläinen; the LETOR/TREC convention). The ideal ranking is built from
  all judged postings, not just the retrieved ones, so a relevant posting the first stage missed
  costs every reranker alike.
- MRR@k and Recall@k count a posting as relevant when its grade is at least `min_grade`
  (default 2: the query's own occupation; siblings are partial credit for NDCG only).
A query with nothing relevant scores 0 on every metric (never NaN), so a mean over a split stays
defined; our collection has none.

Ignores: ties in scores (the caller breaks them) and duplicates in `ranked` (the caller's bug).
"""

import math
from collections.abc import Mapping, Sequence

# MRR and Recall count only the query's own occupation as a hit; siblings earn partial NDCG credit.
RELEVANT_GRADE = 2
CUTOFF = 10  # first page of results


def gain(grade: int) -> float:
    """2^g - 1: a grade-2 posting counts 3x a grade-1 sibling; the exact occupation is what was sought."""
    return 2.0**grade - 1.0


def dcg(grades_in_order: Sequence[int], k: int) -> float:
    return sum(gain(g) / math.log2(rank + 2) for rank, g in enumerate(grades_in_order[:k]))


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF) -> float:
    ideal = dcg(sorted(grades.values(), reverse=True), k)
    return dcg([grades.get(j, 0) for j in ranked], k) / ideal if ideal > 0 else 0.0


def mrr(ranked: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF, min_grade: int = RELEVANT_GRADE) -> float:
    for rank, job_id in enumerate(ranked[:k]):
        if grades.get(job_id, 0) >= min_grade:
            return 1.0 / (rank + 1)
    return 0.0


def recall(ranked: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF, min_grade: int = RELEVANT_GRADE) -> float:
    relevant = {j for j, g in grades.items() if g >= min_grade}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mean_metrics(
    rankings: Sequence[Sequence[str]], judgments: Sequence[Mapping[str, int]], k: int = CUTOFF
) -> dict[str, float]:
    """NDCG@k, MRR@k and Recall@k averaged over queries (aligned sequences)."""
    pairs = list(zip(rankings, judgments, strict=True))
    n = max(len(pairs), 1)
    return {
        f"ndcg@{k}": sum(ndcg(r, g, k) for r, g in pairs) / n,
        f"mrr@{k}": sum(mrr(r, g, k) for r, g in pairs) / n,
        f"recall@{k}": sum(recall(r, g, k) for r, g in pairs) / n,
    }
