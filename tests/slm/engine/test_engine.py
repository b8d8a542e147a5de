"""The scoring engine: multi-item equals pairwise equals the model's own logits, on Llama, Qwen3, Gemma 3."""

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch
from transformers import PreTrainedModel

from slm.engine import EngineConfig, ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.load import load_model
from tests.slm.cases import FP32_TOLERANCE, NO, YES, random_requests, reference, scores, tiny_gemma3, tiny_qwen3

pytestmark = pytest.mark.usefixtures("single_thread")

# Memory stability: Python-level caches (transformers, torch) settle within a few batches and then
# hold ~6 KB of churn per 100 batches; a leak of one batch's objects or one tensor per call would not.
WARM_BATCHES, MEASURED_BATCHES = 10, 50
MAX_PYTHON_GROWTH = 16 * 1024
MAX_RSS_GROWTH = 2 * 1024 * 1024


@pytest.mark.parametrize("attention", ["blocks", "mask"])
@pytest.mark.parametrize("budget", [64, 4096])
def test_multi_item_equals_pairwise_equals_the_model(
    model_and_reference: tuple[PreTrainedModel, np.ndarray], attention: str, budget: int
) -> None:
    model, want = model_and_reference
    requests = random_requests(0)
    multi = ScoringEngine(model, YES, NO, EngineConfig(token_budget=budget, attention=attention))  # type: ignore[arg-type]
    pairwise = ScoringEngine(model, YES, NO, EngineConfig(token_budget=budget, mode="pairwise", attention=attention))  # type: ignore[arg-type]
    assert np.abs(scores(multi, requests) - want).max() < FP32_TOLERANCE
    assert np.abs(scores(pairwise, requests) - want).max() < FP32_TOLERANCE


@pytest.mark.parametrize("window", [8, 64])  # blocks of up to 11 + 49 tokens: most cross 8, none 64
def test_block_attention_applies_sliding_windows(window: int) -> None:
    requests = random_requests(0)
    model = tiny_gemma3(sliding_window=window)
    engine = ScoringEngine(model, YES, NO, EngineConfig(token_budget=4096, attention="blocks"))
    assert np.abs(scores(engine, requests) - reference(model, requests)).max() < FP32_TOLERANCE


@pytest.mark.parametrize("window", [8, 64])
def test_the_dense_mask_applies_sliding_windows_like_the_blocks(window: int) -> None:
    """The CUDA graphs' path (the dense mask) on blocks longer than the window: the block path's scores."""
    requests = random_requests(0)
    model = tiny_gemma3(sliding_window=window)
    dense = scores(ScoringEngine(model, YES, NO, EngineConfig(token_budget=4096, attention="mask")), requests)
    blocks = scores(ScoringEngine(model, YES, NO, EngineConfig(token_budget=4096, attention="blocks")), requests)
    assert np.abs(dense - blocks).max() < FP32_TOLERANCE
    assert np.abs(dense - reference(model, requests)).max() < FP32_TOLERANCE


def test_bf16_multi_item_ranks_like_pairwise() -> None:
    """In bf16 the two modes round differently; the ranking within a request must survive it."""
    model = tiny_qwen3()
    with torch.no_grad():  # spread the random model's scores so ranks are meaningful
        model.get_output_embeddings().weight[YES] *= 40
    model = model.to(torch.bfloat16)
    requests = random_requests(1, counts=(32, 32))
    multi = ScoringEngine(model, YES, NO, EngineConfig(token_budget=4096)).score(requests)
    pairwise = ScoringEngine(model, YES, NO, EngineConfig(token_budget=4096, mode="pairwise")).score(requests)
    for a, b in zip(multi, pairwise, strict=True):
        ranks_a, ranks_b = a.argsort().argsort(), b.argsort().argsort()
        assert np.corrcoef(ranks_a, ranks_b)[0, 1] > 0.99  # Spearman: Pearson of the ranks


def test_block_attention_trains_like_the_mask(tiny_model_dir: Path) -> None:
    """`logits` with grad (what `slm.train` calls): both attentions give the same parameter grads."""
    model = load_model(tiny_model_dir, dtype="float32").model.requires_grad_(True)
    requests = random_requests(5)
    grads = []
    for attention in ("mask", "blocks"):
        engine = ScoringEngine(model, YES, NO, EngineConfig(token_budget=256, attention=attention))  # type: ignore[arg-type]
        model.zero_grad()
        sum(engine.logits(batch).square().sum() for batch in engine.batches(requests)).backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    torch.testing.assert_close(grads[1], grads[0], atol=1e-5, rtol=1e-4)


def test_scores_are_deterministic_and_independent_of_batch_mates(tiny_llama: PreTrainedModel) -> None:
    engine = ScoringEngine(tiny_llama, YES, NO, EngineConfig(token_budget=256))
    requests = random_requests(2)
    first, again = engine.score(requests), engine.score(requests)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    alone = engine.score(requests[1:2])[0]
    assert np.abs(alone - first[1]).max() < FP32_TOLERANCE


def test_empty_input_gives_empty_output(tiny_llama: PreTrainedModel) -> None:
    engine = ScoringEngine(tiny_llama, YES, NO, EngineConfig())
    assert engine.score([]) == []
    assert [len(s) for s in engine.score([ScoreRequest([1, 2], [])])] == [0]


def test_unknown_mode_or_graphs_without_cuda_are_refused(tiny_llama: PreTrainedModel) -> None:
    with pytest.raises(ValueError, match="mode"):
        ScoringEngine(tiny_llama, YES, NO, EngineConfig(mode="listwise"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cuda_graphs"):
        ScoringEngine(tiny_llama, YES, NO, EngineConfig(attention="mask", cuda_graphs=True))


def test_compiled_engine_scores_like_eager(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir, dtype="float32").model  # its own copy: compile works in place
    requests = random_requests(3)
    want = scores(ScoringEngine(model, YES, NO, EngineConfig(token_budget=512)), requests)
    got = scores(ScoringEngine(model, YES, NO, EngineConfig(token_budget=512, compile=True)), requests)
    assert np.abs(got - want).max() < FP32_TOLERANCE


def test_warm_batches_do_not_grow_memory(tiny_llama: PreTrainedModel) -> None:
    """After warm-up (GC frozen), repeating batches holds no more Python objects or process memory."""
    engine = ScoringEngine(tiny_llama, YES, NO, EngineConfig(token_budget=256))
    engine.warmup()
    assert gc.get_freeze_count() > 0
    requests = random_requests(4)
    process = psutil.Process()
    tracemalloc.start()  # before the warm batches: caches that replace entries must net to zero
    try:
        for _ in range(WARM_BATCHES):
            engine.score(requests)
        rss, (python, _) = process.memory_info().rss, tracemalloc.get_traced_memory()
        for _ in range(MEASURED_BATCHES):
            engine.score(requests)
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - python < MAX_PYTHON_GROWTH
        assert process.memory_info().rss - rss < MAX_RSS_GROWTH
    finally:
        tracemalloc.stop()
