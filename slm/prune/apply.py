"""Prune a scoring model by one method and a kept share, in memory or as a model directory.

Contract: `prune_model(model, stats, method, keep) -> Pruned` changes `model` in place from its
calibration statistics (`slm.prune.calibrate`) and keeps its config true:
- "magnitude" (the baseline) and "osscar" narrow every MLP to `pruned_width(intermediate, keep)`
  neurons chosen per layer (`slm.prune.osscar`: OSSCAR re-fits the down projection);
- "osscar-heads" first keeps a share `keep` of each layer's attention heads (`slm.prune.heads`: query
  heads within their key/value groups, or whole groups, as the config allows; the output projection
  re-fitted by `select_units`), then narrows the MLPs as "osscar" does. Both from the same statistics
  of the unpruned model;
- "layer-drop" removes the `1 - keep` share of decoder layers whose skipping changed the scores
  least (`slm.prune.depth`; the statistics must be collected with `depth`).
Every layer keeps the same widths (HF configs hold one per model), so any HF loader reads the result
as a plain, smaller model of the same architecture, without remote code.
`prune_dir(src, out, keep, onet_dir, method, ...) -> Manifest` does it for a model directory:
calibrates on O*NET train queries, prunes, saves bf16 safetensors, the tokenizer and the source's
manifest with a `pruning` record (its `evaluation` dropped: it no longer describes these weights).
The directory appears whole or not at all.
Ignores: recovering quality after pruning (`slm.train.distill`, or `rankstream model build --base`).
"""

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from slm.data import model_budget_tokens
from slm.engine import EngineConfig, ScoringEngine
from slm.load import load_model
from slm.manifest import Calibration, Manifest, OutputError, PruningRecord, write_manifest
from slm.progress import tracked
from slm.prune.calibrate import DEFAULT_CALIBRATION_QUERIES, Statistics, onet_statistics
from slm.prune.depth import drop_layers, layers_kept, least_influential
from slm.prune.heads import attentions, head_shape, heads_kept, narrow_heads, set_heads, unit_buckets
from slm.prune.layers import mlps, narrow
from slm.prune.osscar import magnitude, select, select_units
from slm.scorer import Scorer
from slm.train import freeze_for_serving

Method = Literal["magnitude", "osscar", "osscar-heads", "layer-drop"]
METHODS: tuple[Method, ...] = get_args(Method)
# Widths are rounded to a multiple of 32: bf16 matmul kernels (AVX512, AMX tiles, tensor cores)
# work in 16- or 32-wide blocks, so an odd width wastes a partial block in every layer.
WIDTH_MULTIPLE = 32


@dataclass(frozen=True)
class Pruned:
    mlp_errors: list[float] = field(default_factory=list)  # per layer, relative output error
    head_errors: list[float] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)  # layers dropped


def pruned_width(intermediate: int, keep: float) -> int:
    """Neurons kept per MLP for a kept fraction `keep` in (0, 1]."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    step = min(WIDTH_MULTIPLE, intermediate)
    return min(intermediate, max(step, round(intermediate * keep / step) * step))


def prune_mlps(model: PreTrainedModel, grams: list[torch.Tensor], width: int, method: Method) -> list[float]:
    choose = magnitude if method == "magnitude" else select
    errors = []
    for mlp, gram in tracked(list(zip(mlps(model), grams, strict=True)), f"pruning MLPs ({method})"):
        chosen = choose(mlp.down_proj.weight, gram, width)
        narrow(mlp, chosen.kept.to(mlp.down_proj.weight.device), chosen.weight)
        errors.append(chosen.error)
    model.config.intermediate_size = width
    return errors


def prune_heads(model: PreTrainedModel, grams: list[torch.Tensor], keep: float) -> list[float]:
    """Keep a share `keep` of every layer's heads (the same count per layer), OSSCAR-chosen per layer."""
    shape = head_shape(model.config)
    after = heads_kept(shape, keep, model.config.hidden_size)
    units, buckets, kept = unit_buckets(shape, after)
    errors = []
    for attn, gram in tracked(list(zip(attentions(model), grams, strict=True)), "pruning attention heads"):
        chosen = select_units(attn.o_proj.weight, gram, units, buckets, kept)
        heads = chosen.kept[:: shape.head_dim] // shape.head_dim
        narrow_heads(attn, shape, heads.to(attn.o_proj.weight.device), chosen.weight)
        errors.append(chosen.error)
    set_heads(model.config, after)
    return errors


def prune_model(model: PreTrainedModel, stats: Statistics, method: Method, keep: float) -> Pruned:
    if method == "layer-drop":
        if not stats.drop_errors:
            raise ValueError("layer-drop needs statistics collected with depth=True")
        drop = least_influential(stats.drop_errors, layers_kept(len(stats.drop_errors), keep))
        drop_layers(model, drop)
        return Pruned(dropped=drop)
    head_errors = prune_heads(model, stats.attention, keep) if method == "osscar-heads" else []
    width = pruned_width(model.config.intermediate_size, keep)
    return Pruned(prune_mlps(model, stats.mlp, width, method), head_errors)


def parameters(model: PreTrainedModel) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def non_embedding_parameters(model: PreTrainedModel) -> int:
    """Distinct parameters less the token embeddings and an untied output embedding."""
    tables = {id(m.weight): m.weight.numel() for m in (model.get_input_embeddings(), model.get_output_embeddings())}
    return parameters(model) - sum(tables.values())


def _error(errors: list[float]) -> OutputError | None:
    return OutputError(mean=sum(errors) / len(errors), max=max(errors), per_layer=errors) if errors else None


def _sizes(model: PreTrainedModel) -> tuple[int, int, int, int, int, int]:
    shape, config = head_shape(model.config), model.config
    counts = (parameters(model), non_embedding_parameters(model))
    return config.intermediate_size, shape.heads, shape.kv_heads, config.num_hidden_layers, *counts


def prune_dir(
    src: Path,
    out: Path,
    keep: float,
    onet_dir: Path,
    method: Method = "osscar",
    calibration_queries: int = DEFAULT_CALIBRATION_QUERIES,
    threads: int | None = None,
) -> Manifest:
    began = time.perf_counter()
    loaded = load_model(src, dtype="auto", threads=threads)
    model = loaded.model
    pieces = loaded.manifest.pieces(loaded.tokenizer)
    engine = ScoringEngine(model, pieces.yes_id, pieces.no_id, EngineConfig())
    scorer = Scorer(loaded.tokenizer, engine, loaded.name, pieces)
    budget = model_budget_tokens(src)
    heads, depth = method == "osscar-heads", method == "layer-drop"
    stats = onet_statistics(scorer, onet_dir, budget, calibration_queries, heads, depth)
    before = _sizes(model)
    pruned = prune_model(model, stats, method, keep)
    after = _sizes(model)
    width, heads, kv_heads, layers, params, non_embedding = zip(before, after, strict=True)
    pruning = PruningRecord(
        method=method,
        source=loaded.name,
        keep=keep,
        intermediate_size=width,
        parameters=params,
        non_embedding_parameters=non_embedding,
        attention_heads=heads,
        key_value_heads=kv_heads,
        layers=layers,
        calibration=Calibration(split="train", queries=calibration_queries, tokens=stats.tokens),
        output_error=_error(pruned.mlp_errors),
        attention_error=_error(pruned.head_errors),
        dropped_layers=pruned.dropped or None,
        drop_errors=[round(x, 6) for x in stats.drop_errors] or None,
        seconds=round(time.perf_counter() - began, 1),
    )
    name = f"{loaded.name}-{method}-{round(keep * 100)}"
    manifest = loaded.manifest.model_copy(update={"name": name, "pruning": pruning, "evaluation": None})
    save_model(model, loaded.tokenizer, manifest, out)
    return manifest


def save_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, manifest: Manifest, out: Path) -> None:
    """bf16 safetensors, the tokenizer and the manifest, written as `<out>.partial` then renamed."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    freeze_for_serving(model, torch.bfloat16).save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    write_manifest(partial, manifest)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
