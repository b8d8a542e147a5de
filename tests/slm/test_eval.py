"""Evaluation: reranking order and ties, and an end-to-end run with the tiny model on real O*NET."""

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from slm.blend import FIRST_STAGE_WEIGHT
from slm.data.onet import ATTRIBUTION, Query
from slm.data.retrieval import Bm25
from slm.data.splits import split_queries, subsample
from slm.eval import EvalResult, evaluate, print_results
from slm.eval.evaluate import EvalSet, first_stage, model_scores, ranked
from slm.eval.metrics import mean_metrics
from slm.scorer import EncodedQuery
from tests.slm.test_data_onet import ONET_DIR, real_onet


class FirstTokenScorer:
    """Scores a context by its first token id: a known order to rerank by."""

    def score_encoded(self, queries: Sequence[EncodedQuery]) -> list[list[float]]:
        return [[float(ctx[0]) for ctx in q.contexts] for q in queries]


def test_rerank_orders_by_score_and_ties_keep_first_stage_order() -> None:
    evals = EvalSet(
        (Query("q1", "a", ("x",)), Query("q2", "b", ("y",)), Query("q3", "c", ("z",))),
        (("low", "tie1", "high", "tie2"), (), ("high",)),
        ({"high": 2}, {}, {"high": 2}),
        ((4.0, 3.0, 2.0, 1.0), (), (1.0,)),
    )
    contexts = {"low": [1], "tie1": [5], "tie2": [5], "high": [9]}
    scores = model_scores(FirstTokenScorer(), evals, contexts, "fake")  # type: ignore[arg-type]
    assert scores == [[1.0, 5.0, 9.0, 5.0], [], [9.0]]
    assert ranked(evals, scores) == [("high", "tie1", "tie2", "low"), (), ("high",)]


def test_evaluate_end_to_end_with_the_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = evaluate(
        tiny_model_dir, "unseen", ONET_DIR, contexts=("compressed", "full"), max_queries=2, budget_tokens=32, out=out
    )
    assert EvalResult.model_validate_json(out.read_text()) == result
    assert result.queries == 2 and result.queries_in_split > 500
    assert result.attribution == ATTRIBUTION
    bm25, compressed, compressed_blend, full, full_blend = result.rows
    assert (bm25.system, compressed.context, full.context) == ("bm25", "compressed", "full")
    assert compressed_blend.system == f"{compressed.system} + bm25 (weight {FIRST_STAGE_WEIGHT:g})"
    assert compressed_blend.first_stage_weight == full_blend.first_stage_weight == FIRST_STAGE_WEIGHT
    assert 0.0 <= compressed.ndcg <= 1.0 and compressed.seconds > 0
    # The BM25 row is the first stage's own order, measured on the same queries.
    onet = real_onet()
    evals = first_stage(onet, Bm25(onet.postings), subsample(split_queries(onet)["unseen"], 2))
    expected = mean_metrics(evals.candidates, evals.judgments)
    assert {k: bm25.model_dump()[k] for k in expected} == expected
    assert result.first_stage.recall == evals.first_stage_recall()
    console = Console(record=True, width=200)
    print_results(result, console)  # the table renders what evaluate returns, as it returns it
    assert "compressed, 32 tokens" in console.export_text()


def test_results_table_shows_every_system_and_the_attribution(tmp_path: Path) -> None:
    result = EvalResult.model_validate(
        {
            "split": "test",
            "queries": 2,
            "queries_in_split": 9,
            "seed": 0,
            "compressor": "extractive@1",
            "attribution": ATTRIBUTION,
            "first_stage": {
                "retriever": "bm25s",
                "k": 50,
                "recall@50": 0.5,
                "recall@50_whole_split": 0.6,
                "bm25_whole_split": {"ndcg@10": 0.4, "mrr@10": 0.3, "recall@10": 0.5},
            },
            "rows": [
                {"system": "bm25", "context": None, "ndcg@10": 0.4, "mrr@10": 0.3, "recall@10": 0.5, "seconds": None},
                {
                    "system": "model",
                    "context": "compressed",
                    "ndcg@10": 0.6,
                    "mrr@10": 0.5,
                    "recall@10": 0.7,
                    "seconds": 1.5,
                    "context_budget_tokens": 96,
                },
            ],
        }
    )
    console = Console(record=True, width=200)
    print_results(result, console)
    text = console.export_text()
    assert "NDCG@10" in text and "+0.200" in text and "O*NET 27.0 Database" in text
