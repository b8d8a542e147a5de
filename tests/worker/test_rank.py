"""Ranking: score descending, ties by request order, top_k cuts results but never unscored."""

from schemas import SearchQuery
from worker.rank import rank


def make_query(top_k: int | None = None) -> SearchQuery:
    return SearchQuery(request_id="r", query="q", candidate_job_ids=["a", "b", "c", "d", "e"], top_k=top_k)


def test_scores_descending_ties_by_candidate_order_ranks_from_one() -> None:
    out = rank(make_query(), {"a": 0.2, "b": 0.9, "c": 0.2, "e": 0.5}, {"d": "missing_context"}, "m", "x@1")
    assert [(r.job_id, r.rank) for r in out.results] == [("b", 1), ("e", 2), ("a", 3), ("c", 4)]
    assert [(u.job_id, u.reason) for u in out.unscored] == [("d", "missing_context")]
    assert (out.model, out.compressor, out.request_id) == ("m", "x@1", "r")


def test_top_k_cuts_only_the_ranked_list() -> None:
    out = rank(
        make_query(top_k=2),
        {"a": 0.1, "b": 0.3, "c": 0.2},
        {"d": "missing_context", "e": "missing_context"},
        "m",
        "x@1",
    )
    assert [r.job_id for r in out.results] == ["b", "c"]
    assert len(out.unscored) == 2


def test_top_k_larger_than_candidates_keeps_all() -> None:
    assert len(rank(make_query(top_k=50), {"a": 0.1}, {}, "m", "x@1").results) == 1


def test_first_stage_scores_blend_into_the_ranking_when_weighted() -> None:
    query = SearchQuery(request_id="r", query="q", candidate_job_ids=["a", "b", "c"], candidate_scores=[1.0, 20.0, 3.0])
    scores = {"a": 0.6, "b": 0.5, "c": 0.1}
    alone = rank(query, scores, {}, "m", "x@1")
    mixed = rank(query, scores, {}, "m", "x@1", first_stage_weight=2.0)
    assert [r.job_id for r in alone.results] == ["a", "b", "c"]
    assert [r.score for r in alone.results] == [0.6, 0.5, 0.1]  # weight 0: the model's P(relevant)
    assert [r.job_id for r in mixed.results] == ["b", "a", "c"]
    assert all(0.0 <= r.score <= 1.0 for r in mixed.results)
    plain = SearchQuery(request_id="r", query="q", candidate_job_ids=["a", "b", "c"])
    assert rank(plain, scores, {}, "m", "x@1", first_stage_weight=2.0) == alone  # no scores, no blend
