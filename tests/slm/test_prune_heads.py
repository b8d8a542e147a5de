"""Attention-head pruning (OSSCAR over the output projection's head blocks) and layer dropping, on tiny
Llama, Qwen3 and Gemma 3 models: removing nothing changes nothing; a layer's measured score error is
what dropping it changes; a pruned model, saved and read back by plain transformers, scores the same
through the engine (prefix cache on) as its own full forward."""

import copy
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, PreTrainedModel

from slm.engine import EngineConfig, ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.load import load_model
from slm.prune import prune_dir, prune_model, select_units
from slm.prune.apply import prune_heads
from slm.prune.calibrate import Statistics, collect
from slm.prune.depth import drop_errors, drop_layers, layers_kept, least_influential
from slm.prune.heads import HeadShape, head_shape, heads_kept
from slm.prune.osscar import output_error
from slm.scorer import Scorer
from tests.slm.cases import NO, YES, random_requests, reference, scores, tiny_gemma3, tiny_qwen3
from tests.slm.test_data_onet import ONET_DIR

pytestmark = pytest.mark.usefixtures("single_thread")

ARCHITECTURES = ("llama", "qwen3", "gemma3")
CACHE = EngineConfig(prefix_cache_bytes=64 << 20)
# Re-fitting the full support solves H W^T = H V^T in float64 with a damped H: exact up to rounding.
UNCHANGED_ATOL = 1e-5


@pytest.fixture(scope="module", params=ARCHITECTURES)
def model(request: pytest.FixtureRequest, tiny_model_dir: Path) -> PreTrainedModel:
    if request.param == "llama":
        return load_model(tiny_model_dir, dtype="float32").model
    return tiny_qwen3() if request.param == "qwen3" else tiny_gemma3(sliding_window=8)


def _stats(model: PreTrainedModel) -> Statistics:
    return collect(ScoringEngine(model, YES, NO, EngineConfig()), random_requests(0, (4, 9)), heads=True, depth=True)


def _logits(model: PreTrainedModel, requests: list[ScoreRequest]) -> torch.Tensor:
    engine = ScoringEngine(model, YES, NO, EngineConfig())
    with torch.inference_mode():
        return torch.cat([engine.logits(batch) for batch in engine.batches(requests)])


def _scores(model: PreTrainedModel, config: EngineConfig = CACHE) -> np.ndarray:
    return scores(ScoringEngine(model, YES, NO, config), random_requests(1))


@pytest.mark.parametrize(
    ("shape", "hidden", "keep", "after"),
    [
        (HeadShape(4, 1, 256), 640, 0.5, HeadShape(2, 1, 256)),  # Gemma 3 270M: query heads within its one group
        (HeadShape(4, 1, 256), 640, 0.75, HeadShape(2, 1, 256)),  # not 3: 640 is no multiple of 3
        (HeadShape(9, 3, 64), 576, 0.5, HeadShape(6, 3, 64)),  # SmolLM2-135M: 2 of each group's 3
        (HeadShape(16, 8, 128), 1024, 0.5, HeadShape(8, 8, 128)),  # Qwen3-0.6B: 1 of each group's 2
        (HeadShape(8, 8, 64), 512, 0.5, HeadShape(4, 4, 64)),  # multi-head attention: whole groups
        (HeadShape(6, 6, 64), 384, 0.9, HeadShape(4, 4, 64)),  # whole groups: 5 would not divide 384
        (HeadShape(4, 1, 256), 640, 0.01, HeadShape(1, 1, 256)),  # at least one head per group
    ],
)
def test_head_counts_follow_the_groups_the_config_allows(
    shape: HeadShape, hidden: int, keep: float, after: HeadShape
) -> None:
    assert heads_kept(shape, keep, hidden) == after
    assert hidden % after.heads == 0 and after.heads % after.kv_heads == 0
    assert heads_kept(HeadShape(9, 3, 64), 2 / 3, 576, "group") == HeadShape(6, 2, 64)


def test_unit_selection_keeps_each_buckets_share_and_no_single_swap_beats_it() -> None:
    torch.manual_seed(0)
    x = torch.randn(400, 24) * torch.linspace(0.2, 2.0, 24)  # 6 units of 4 channels, of unequal weight
    weight, gram = torch.randn(5, 24), x.T @ x
    buckets = [[0, 1, 2], [3, 4, 5]]
    chosen = select_units(weight, gram, 6, buckets, 2)
    units = sorted({int(c) // 4 for c in chosen.kept})
    assert len(chosen.kept) == 16 and all(len(set(units) & set(b)) == 2 for b in buckets)
    for bucket in buckets:
        for out, into in itertools.product(set(units) & set(bucket), set(bucket) - set(units)):
            other = torch.cat([torch.arange(u * 4, u * 4 + 4) for u in sorted({*units} - {out} | {into})])
            refit = torch.linalg.lstsq(x[:, other], x @ weight.T).solution.T
            assert output_error(weight, gram, other, refit) >= chosen.error * (1 - 1e-3)
    whole = select_units(weight, gram, 6, buckets, 3)
    assert whole.error < 1e-10 and torch.allclose(whole.weight, weight, atol=1e-5)
    with pytest.raises(ValueError, match="keep"):
        select_units(weight, gram, 6, buckets, 4)


def test_head_pruning_that_removes_nothing_leaves_outputs_unchanged(model: PreTrainedModel) -> None:
    stats = _stats(model)
    pruned = copy.deepcopy(model)
    errors = prune_heads(pruned, stats.attention, 1.0)
    assert max(errors) < 1e-10 and head_shape(pruned.config) == head_shape(model.config)
    np.testing.assert_allclose(_scores(pruned), _scores(model), atol=UNCHANGED_ATOL)


def test_dropping_no_layer_changes_nothing(model: PreTrainedModel) -> None:
    pruned = copy.deepcopy(model)
    drop_layers(pruned, [])
    assert pruned.config.num_hidden_layers == model.config.num_hidden_layers
    np.testing.assert_array_equal(_scores(pruned), _scores(model))


def _reloaded(model: PreTrainedModel, out: Path) -> PreTrainedModel:
    model.save_pretrained(out, safe_serialization=True)
    assert not list(out.glob("*.bin")) and "auto_map" not in json.loads((out / "config.json").read_text())
    return AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()


@pytest.mark.parametrize("method", ["osscar-heads", "layer-drop"])
def test_a_pruned_model_reloads_with_transformers_and_the_engine_scores_it(
    model: PreTrainedModel, method: str, tmp_path: Path
) -> None:
    pruned = copy.deepcopy(model)
    result = prune_model(pruned, _stats(model), method, 0.5)
    reloaded = _reloaded(pruned, tmp_path / "pruned")
    config = reloaded.config
    if method == "osscar-heads":  # the tiny shape: 2 groups of 2 query heads -> 1 query head per group
        assert (config.num_attention_heads, config.num_key_value_heads, config.head_dim) == (2, 2, 16)
        assert config.intermediate_size == 64 and len(result.head_errors) == 2
    else:
        assert config.num_hidden_layers == 1 and result.dropped in ([0], [1])
        types = getattr(model.config, "layer_types", None)
        kept = 1 - result.dropped[0]
        assert getattr(config, "layer_types", None) == (None if types is None else [types[kept]])
    expected = reference(reloaded, random_requests(1))
    engine = ScoringEngine(reloaded, YES, NO, CACHE)
    for _ in range(2):  # cold, then every prefix from the cache
        np.testing.assert_allclose(scores(engine, random_requests(1)), expected, atol=1e-4)
    assert engine.cache.hits > 0
    np.testing.assert_allclose(_scores(pruned), expected, atol=1e-4)  # the in-memory model is the same


def test_a_skipped_layers_score_error_is_what_dropping_it_changes(model: PreTrainedModel) -> None:
    requests = random_requests(0, (4, 9))
    errors = drop_errors(ScoringEngine(model, YES, NO, EngineConfig()), requests)
    full = _logits(model, requests)
    assert len(errors) == model.config.num_hidden_layers and all(e > 0 for e in errors)
    for i, error in enumerate(errors):
        shallower = copy.deepcopy(model)
        drop_layers(shallower, [i])
        assert float(((_logits(shallower, requests) - full) ** 2).mean()) == pytest.approx(error, rel=1e-4)
    assert not any(layer._forward_hooks for layer in model.get_decoder().layers)


def test_layers_kept_and_the_least_influential_are_dropped() -> None:
    assert [layers_kept(18, k) for k in (1.0, 0.75, 0.5, 0.01)] == [18, 14, 9, 1]
    assert least_influential([0.3, 0.1, 0.2, 0.5], 2) == [1, 2]
    with pytest.raises(ValueError, match="at least one"):
        drop_layers(tiny_qwen3(), [0, 1])


def test_prune_dir_with_heads_writes_a_directory_transformers_and_the_scorer_load(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pruned"
    record = prune_dir(tiny_model_dir, out, 0.5, ONET_DIR, "osscar-heads", calibration_queries=2).pruning
    assert (record.attention_heads, record.key_value_heads, record.intermediate_size) == ((4, 2), (2, 2), (128, 64))
    assert record.attention_error is not None and record.output_error is not None
    assert {p.suffix for p in out.iterdir() if p.is_file()} <= {".json", ".safetensors", ".jinja", ".txt"}
    plain = AutoModelForCausalLM.from_pretrained(out)
    assert plain.config.num_attention_heads == 2 and plain.config.head_dim == 16
    scorer = Scorer.load(out, dtype="float32", warmup=False, prefix_cache_mb=16)
    first = scorer.score("line cook", ["cook", "nurse"])
    assert scorer.score("line cook", ["cook", "nurse"]) == pytest.approx(first, abs=1e-6)
    assert scorer.prefix_cache is not None and scorer.prefix_cache.hits > 0
    dropped = prune_dir(tiny_model_dir, tmp_path / "shallow", 0.5, ONET_DIR, "layer-drop", calibration_queries=2)
    assert dropped.pruning.layers == (2, 1) and len(dropped.pruning.drop_errors) == 2
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "shallow").config.num_hidden_layers == 1
