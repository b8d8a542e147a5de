"""The scorer API over the tiny model: text in, one probability per item out, in item order."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from slm.prompt import JOB_FIRST, build_pieces
from slm.scorer import MAX_ITEM_TOKENS, EncodedQuery, Scorer

pytestmark = pytest.mark.usefixtures("single_thread")

ITEMS = ["ICU nurse, night shifts", "", "Barista — café Zürich, 20 h/semaine", "看护 夜班", "  "]


@pytest.fixture(scope="module")
def scorer(tiny_model_dir: Path) -> Scorer:
    return Scorer.load(tiny_model_dir, dtype="float32", token_budget=256)


def test_scores_are_probabilities_in_item_order(scorer: Scorer) -> None:
    scores = scorer.score("nurse", ITEMS)
    assert len(scores) == len(ITEMS) and all(0.0 <= s <= 1.0 for s in scores)
    assert scorer.score("nurse", ITEMS[2:3])[0] == pytest.approx(scores[2], abs=1e-5)


def test_multi_item_and_pairwise_agree_through_the_api(scorer: Scorer, tiny_model_dir: Path) -> None:
    pairwise = Scorer.load(tiny_model_dir, dtype="float32", token_budget=256, mode="pairwise", warmup=False)
    assert np.abs(np.array(pairwise.score("nurse", ITEMS)) - scorer.score("nurse", ITEMS)).max() < 1e-4


def test_a_thousand_items_and_an_overlong_one(scorer: Scorer) -> None:
    items = [f"job {i}" for i in range(999)] + ["word " * 3000]
    scores = scorer.score("engineer", items)
    assert len(scores) == 1000 and np.isfinite(scores).all()
    assert scores[0] == pytest.approx(scorer.score("engineer", ["job 0"])[0], abs=1e-4)


def test_contexts_are_cut_to_the_item_cap(scorer: Scorer) -> None:
    long = scorer.encode(["word " * (2 * MAX_ITEM_TOKENS)])[0]
    (request,) = scorer.requests([EncodedQuery("q", [long])]).requests
    assert len(request.items[0]) == len(scorer.pieces.item(long[:MAX_ITEM_TOKENS]))


def test_score_encoded_tokenizes_queries_once_and_never_the_contexts(scorer: Scorer) -> None:
    calls: list[list[str]] = []
    tokenizer = scorer.tokenizer

    def counting(texts: list[str], **kwargs: object) -> object:
        calls.append(list(texts))
        return tokenizer(texts, **kwargs)

    contexts = scorer.encode(ITEMS)
    scorer.tokenizer = counting  # type: ignore[assignment]
    try:
        out = scorer.score_encoded([EncodedQuery("nurse", contexts), EncodedQuery("cook", contexts[:2])])
    finally:
        scorer.tokenizer = tokenizer
    assert calls == [["nurse", "cook"]]
    assert [len(s) for s in out] == [len(ITEMS), 2]
    assert out[0] == pytest.approx(scorer.score("nurse", ITEMS), abs=1e-6)


def test_job_first_scores_each_distinct_context_once_for_all_its_queries(tiny_model_dir: Path) -> None:
    scorer = Scorer.load(tiny_model_dir, dtype="float32", token_budget=256, warmup=False)
    scorer.pieces = build_pieces(scorer.tokenizer, JOB_FIRST)
    a, b, c = scorer.encode(ITEMS[:3])
    queries = [EncodedQuery("nurse", [a, b]), EncodedQuery("cook", [b, c, a])]
    prompts = scorer.requests(queries)
    assert [len(r.items) for r in prompts.requests] == [2, 2, 1]  # a, b, c: one prefix each
    assert [r.prefix for r in prompts.requests] == [scorer.pieces.prefix(ctx) for ctx in (a, b, c)]
    assert [i.tolist() for i in prompts.index] == [[0, 2], [3, 4, 1]]
    together = scorer.score_encoded(queries)
    alone = [scorer.score_encoded([q])[0] for q in queries]
    np.testing.assert_allclose(np.concatenate(together), np.concatenate(alone), atol=1e-5)


def test_a_posting_listed_again_comes_from_the_prefix_cache(tiny_model_dir: Path) -> None:
    plain = Scorer.load(tiny_model_dir, dtype="float32", token_budget=256, warmup=False)
    cached = Scorer.load(tiny_model_dir, dtype="float32", token_budget=256, prefix_cache_mb=16)
    for scorer in (plain, cached):
        scorer.pieces = build_pieces(scorer.tokenizer, JOB_FIRST)
    contexts = cached.encode(ITEMS[:3])
    calls = [[EncodedQuery("nurse", contexts[:2])], [EncodedQuery("cook", contexts), EncodedQuery("chef", contexts)]]
    for call in calls:
        np.testing.assert_allclose(
            np.concatenate(cached.score_encoded(call)), np.concatenate(plain.score_encoded(call)), atol=1e-5
        )
    cache = cached.prefix_cache
    assert plain.prefix_cache is None and cache is not None
    assert (cache.hits, cache.misses, len(cache)) == (2, 3, 3)  # the 2nd call met 2 postings again


def test_empty_calls(scorer: Scorer) -> None:
    assert scorer.score("nurse", []) == []
    assert scorer.score_encoded([]) == []


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_is_import_guarded(tiny_model_dir: Path) -> None:
    with pytest.raises(ImportError, match="pip install vllm"):
        Scorer.load(tiny_model_dir, backend="vllm")
