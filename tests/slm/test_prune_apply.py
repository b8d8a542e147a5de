"""`slm.prune` on a tiny model: calibration statistics, narrowed MLPs that track the original better
than the magnitude baseline, and a pruned directory any loader reads as a smaller model."""

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedModel

from slm.engine import EngineConfig, ScoringEngine
from slm.engine import engine as engine_module
from slm.load import LoadedModel, load_model
from slm.manifest import read_manifest
from slm.prune import non_embedding_parameters, parameters, prune_dir, pruned_width
from slm.prune.apply import prune_mlps
from slm.prune.calibrate import Statistics, add_upper_gram, collect, symmetric
from slm.prune.layers import mlps
from slm.scorer import EncodedQuery, Scorer
from tests.slm.test_data_onet import ONET_DIR

pytestmark = pytest.mark.usefixtures("single_thread")

TEXTS = ["python developer", "registered nurse icu", "truck driver cdl", "line cook", "payroll accountant"]


def _queries(scorer: Scorer, queries: list[str]) -> list[EncodedQuery]:
    contexts = [tuple(ids) for ids in scorer.encode([f"{t}: duties, tools and skills of a {t}." for t in TEXTS])]
    return [EncodedQuery(q, contexts) for q in queries]


def _scorer(loaded: LoadedModel, model: PreTrainedModel) -> Scorer:
    pieces = loaded.manifest.pieces(loaded.tokenizer)
    engine = ScoringEngine(model, pieces.yes_id, pieces.no_id, EngineConfig())
    return Scorer(loaded.tokenizer, engine, loaded.name, pieces)


@pytest.fixture(scope="module")
def loaded(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir, dtype="float32")


@pytest.fixture(scope="module")
def scorer(loaded: LoadedModel) -> Scorer:
    return _scorer(loaded, copy.deepcopy(loaded.model))


def _stats(scorer: Scorer, queries: list[str]) -> Statistics:
    return collect(scorer.engine, scorer.requests(_queries(scorer, queries)).requests)


def test_grams_are_the_projection_inputs_second_moments(scorer: Scorer) -> None:
    stats = _stats(scorer, ["nurse", "cook"])
    config = scorer.engine.body.config
    assert len(stats.mlp) == len(stats.attention) == config.num_hidden_layers and stats.tokens > 0
    assert stats.drop_errors == []  # layer-skipping passes only when asked (depth)
    widths = (config.intermediate_size, config.num_attention_heads * config.head_dim)
    for grams, width in zip((stats.mlp, stats.attention), widths, strict=True):
        for gram in grams:
            assert gram.shape == (width, width) and torch.allclose(gram, gram.T)
            assert torch.linalg.eigvalsh(gram.double()).min() > -1e-6 * gram.diagonal().max()  # X^T X is PSD
    mlp_only = collect(scorer.engine, scorer.requests(_queries(scorer, ["nurse", "cook"])).requests, heads=False)
    assert mlp_only.attention == [] and all(torch.equal(a, b) for a, b in zip(mlp_only.mlp, stats.mlp, strict=True))
    body = scorer.engine.body
    assert not any(m.down_proj._forward_pre_hooks for m in mlps(body))  # hooks removed
    assert not any(layer._forward_hooks for layer in body.layers)


@pytest.mark.parametrize("width", [3, 8, 37])
def test_upper_block_updates_sum_to_the_whole_gram(width: int) -> None:
    generator = torch.Generator().manual_seed(width)
    batches = [torch.randn(n, width, generator=generator, dtype=torch.float64) for n in (5, 11, 2)]
    gram = torch.zeros(width, width, dtype=torch.float64)
    for x in batches:
        add_upper_gram(gram, x)
    whole = torch.cat(batches)
    assert torch.allclose(symmetric(gram), whole.T @ whole, rtol=1e-12, atol=1e-12)


def test_grams_leave_out_the_engines_padding(scorer: Scorer, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = ["nurse", "cook"]
    batches = list(scorer.engine.batches(scorer.requests(_queries(scorer, queries)).requests))
    assert any(b.tokens % engine_module.SHAPE_BUCKET_TOKENS for b in batches)  # the engine pads these streams
    padded = _stats(scorer, queries)
    monkeypatch.setattr(engine_module, "SHAPE_BUCKET_TOKENS", 1)  # no padding at all
    unpadded = _stats(scorer, queries)
    assert padded.tokens == unpadded.tokens
    for with_pad, without in zip(padded.mlp + padded.attention, unpadded.mlp + unpadded.attention, strict=True):
        assert torch.allclose(with_pad, without, rtol=1e-4, atol=1e-6)


def test_osscar_tracks_the_unpruned_scores_better_than_magnitude(loaded: LoadedModel, scorer: Scorer) -> None:
    grams = _stats(scorer, TEXTS).mlp
    held_out = _queries(scorer, ["senior backend engineer", "pastry chef", "icu nurse nights"])
    original = np.array(scorer.score_encoded(held_out))
    drift = {}
    for method in ("osscar", "magnitude"):
        pruned = copy.deepcopy(loaded.model)
        errors = prune_mlps(pruned, grams, 32, method)
        assert pruned.config.intermediate_size == 32 and all(m.down_proj.in_features == 32 for m in mlps(pruned))
        assert len(errors) == pruned.config.num_hidden_layers
        scores = np.array(_scorer(loaded, pruned).score_encoded(held_out))
        drift[method] = (np.abs(scores - original).mean(), sum(errors))
    assert drift["osscar"][1] < drift["magnitude"][1]
    assert drift["osscar"][0] < drift["magnitude"][0]


def test_prune_dir_writes_a_smaller_scorable_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pruned"
    manifest = prune_dir(tiny_model_dir, out, 0.5, ONET_DIR, calibration_queries=2)
    assert manifest == read_manifest(out) and not out.with_name("pruned.partial").exists()
    record = manifest.pruning
    assert record.method == "osscar" and record.intermediate_size == (128, 64)
    assert record.parameters[1] < record.parameters[0] and record.calibration.tokens > 0
    assert record.layers == (2, 2) and record.attention_heads == (4, 4) and record.attention_error is None
    assert record.non_embedding_parameters[1] < record.non_embedding_parameters[0] < record.parameters[0]
    assert manifest.evaluation is None and manifest.name.endswith("-osscar-50")
    pruned = Scorer.load(out, dtype="float32", warmup=False)
    assert pruned.engine.body.config.intermediate_size == 64
    assert parameters(pruned.engine.body) < parameters(load_model(tiny_model_dir, dtype="float32").model)
    assert non_embedding_parameters(load_model(out).model) == record.non_embedding_parameters[1]
    assert all(0.0 <= s <= 1.0 for s in pruned.score("line cook", ["cook", "nurse"]))


def test_widths_round_to_kernel_blocks_and_bad_fractions_are_refused() -> None:
    assert pruned_width(1536, 0.5) == 768 and pruned_width(1536, 0.6) == 928 and pruned_width(1536, 1.0) == 1536
    assert pruned_width(128, 0.01) == 32 and pruned_width(20, 0.5) == 20
    for keep in (0.0, 1.5):
        with pytest.raises(ValueError, match="keep"):
            pruned_width(1536, keep)


def test_models_without_gated_mlp_layers_are_refused() -> None:
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64))
    with pytest.raises(ValueError, match="layers"):
        mlps(gpt2)
