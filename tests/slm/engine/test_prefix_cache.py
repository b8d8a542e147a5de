"""The prefix cache: reused keys give the scores a full run gives; the bound and the LRU order hold."""

import numpy as np
import pytest
import torch
from transformers import PreTrainedModel

from slm.engine import EngineConfig, ScoringEngine
from slm.engine.packing import ScoreRequest, pack
from slm.engine.prefix_cache import PrefixCache, entry_bytes
from tests.slm.cases import FP32_TOLERANCE, NO, YES, random_requests, scores

pytestmark = pytest.mark.usefixtures("single_thread")
CACHE_BYTES = 64 << 20  # holds every prefix of these tests


def keys(tokens: int, layers: int = 2) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    return tuple((torch.zeros(1, tokens, 4), torch.zeros(1, tokens, 4)) for _ in range(layers))


@pytest.mark.parametrize("budget", [64, 4096])
@pytest.mark.parametrize("mode", ["multi-item", "pairwise"])
def test_cached_prefixes_score_like_a_full_run(
    model_and_reference: tuple[PreTrainedModel, np.ndarray], budget: int, mode: str
) -> None:
    model, want = model_and_reference
    requests = random_requests(0)
    engine = ScoringEngine(model, YES, NO, EngineConfig(token_budget=budget, mode=mode, prefix_cache_bytes=CACHE_BYTES))  # type: ignore[arg-type]
    cold = scores(engine, requests)
    assert engine.cache is not None and len(engine.cache) == len(requests)
    warm = scores(engine, requests)
    assert engine.cache.hits == len(requests)
    assert np.abs(cold - want).max() < FP32_TOLERANCE
    assert np.abs(warm - want).max() < FP32_TOLERANCE


def test_a_call_mixes_cached_and_fresh_prefixes(model_and_reference: tuple[PreTrainedModel, np.ndarray]) -> None:
    model, want = model_and_reference
    requests = random_requests(0)
    engine = ScoringEngine(model, YES, NO, EngineConfig(token_budget=96, prefix_cache_bytes=CACHE_BYTES))
    engine.score(requests[1:2])
    assert np.abs(scores(engine, requests) - want).max() < FP32_TOLERANCE
    assert engine.cache is not None and (engine.cache.hits, engine.cache.misses) == (1, 3)


def test_a_cached_prefix_takes_no_stream_tokens() -> None:
    request = ScoreRequest([5, 6, 7], [[1, 2], [3]])
    (fresh,) = pack([request], 4096)
    (warm,) = pack([request], 4096, cached={(5, 6, 7)})
    assert fresh.tokens == 6 and fresh.fresh == (((5, 6, 7), 0),) and fresh.past == ()
    assert warm.tokens == 3 and warm.past == ((5, 6, 7),) and warm.fresh == ()
    assert warm.position_ids.tolist() == [3, 3, 4]  # items still sit right after the prefix
    assert warm.block_prefix_start.tolist() == [0, 0] and warm.block_prefix_len.tolist() == [3, 3]


def test_the_least_recently_used_prefix_goes_first() -> None:
    size = entry_bytes(keys(10))
    cache = PrefixCache(2 * size)
    cache.put((1,), keys(10))
    cache.put((2,), keys(10))
    assert set(cache.lookup([(1,)])) == {(1,)}  # (1,) is now the most recent
    cache.put((3,), keys(10))
    assert len(cache) == 2 and cache.bytes == 2 * size
    assert set(cache.lookup([(1,), (2,), (3,)])) == {(1,), (3,)}
    cache.put((4,), keys(100))  # larger than the whole bound: never kept
    assert (4,) not in cache.lookup([(4,)]) and len(cache) == 2


def test_a_cache_needs_block_attention(model_and_reference: tuple[PreTrainedModel, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="blocks"):
        ScoringEngine(model_and_reference[0], YES, NO, EngineConfig(attention="mask", prefix_cache_bytes=CACHE_BYTES))
