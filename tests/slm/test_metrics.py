"""Ranking metrics against hand-computed values (gains 2^g - 1, discounts log2(rank + 1))."""

import math

import pytest

from slm.eval.metrics import mean_metrics, mrr, ndcg, recall

GRADES = {"a": 2, "b": 1, "c": 1}  # one relevant posting, two siblings
RANKED = ["x", "b", "a", "y"]


def test_ndcg_by_hand() -> None:
    # DCG  = 0/log2(2) + 1/log2(3) + 3/log2(4)        = 0.63093 + 1.5           = 2.13093
    # IDCG = 3/log2(2) + 1/log2(3) + 1/log2(4)        = 3 + 0.63093 + 0.5       = 4.13093
    assert ndcg(RANKED, GRADES) == pytest.approx(2.13093 / 4.13093, abs=1e-5)
    # @2: DCG = 0.63093; IDCG = 3 + 0.63093
    assert ndcg(RANKED, GRADES, k=2) == pytest.approx(0.63093 / 3.63093, abs=1e-5)


def test_ndcg_is_one_for_the_ideal_order_and_zero_without_hits() -> None:
    assert ndcg(["a", "b", "c"], GRADES) == pytest.approx(1.0)
    assert ndcg(["a", "c", "b"], GRADES) == pytest.approx(1.0)  # equal grades are interchangeable
    assert ndcg(["x", "y"], GRADES) == 0.0
    assert ndcg(["x"], {}) == 0.0


def test_ndcg_ideal_counts_relevant_postings_the_first_stage_missed() -> None:
    # Only the sibling was retrieved: DCG = 1/log2(2) = 1; IDCG = 3 + 1/log2(3)
    assert ndcg(["b"], {"a": 2, "b": 1}) == pytest.approx(1 / (3 + 1 / math.log2(3)))


def test_mrr_counts_only_full_relevance_by_default() -> None:
    assert mrr(RANKED, GRADES) == pytest.approx(1 / 3)  # "a" at rank 3; "b" at 2 is a sibling
    assert mrr(RANKED, GRADES, min_grade=1) == pytest.approx(1 / 2)
    assert mrr(RANKED, GRADES, k=2) == 0.0
    assert mrr([], GRADES) == 0.0


def test_recall_by_hand() -> None:
    two = {"a": 2, "d": 2, "b": 1}
    assert recall(RANKED, two) == pytest.approx(1 / 2)  # "a" found, "d" not
    assert recall(RANKED, two, k=2) == 0.0
    assert recall(RANKED, two, min_grade=1) == pytest.approx(2 / 3)
    assert recall(RANKED, {"b": 1}) == 0.0  # nothing fully relevant: 0, not NaN


def test_mean_metrics_average_over_queries() -> None:
    means = mean_metrics([RANKED, ["a"]], [GRADES, {"a": 2}])
    assert means["ndcg@10"] == pytest.approx((2.13093 / 4.13093 + 1.0) / 2, abs=1e-5)
    assert means["mrr@10"] == pytest.approx((1 / 3 + 1.0) / 2)
    assert means["recall@10"] == pytest.approx(1.0)
    assert mean_metrics([], []) == {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@10": 0.0}
