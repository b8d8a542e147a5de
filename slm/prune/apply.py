"""Prune a scoring model's MLPs to a narrower intermediate width and save it as a model directory.

Contract: `prune_model(model, grams, width, method)` narrows every decoder layer's MLP, in place, to
`width` intermediate neurons chosen per layer from that layer's calibration Gram matrix
(`slm.prune.osscar`: "osscar" re-fits the down projection, "magnitude" is the baseline), sets
`config.intermediate_size = width` (every layer the same width, so any HF loader reads the result as
a plain, smaller model of the same architecture) and returns each layer's relative output error.
`prune_dir(src, out, keep, ...) -> Manifest` does it for a model directory: calibrates on O*NET
train queries (`slm.prune.calibrate`), prunes, saves bf16 safetensors, the tokenizer and the
source's manifest with a `pruning` record (its `evaluation` dropped: it no longer describes these
weights). The directory appears whole or not at all.
Ignores: recovering quality after pruning (train the result: `rankstream model build --base`).
"""

import shutil
import time
from pathlib import Path
from typing import Literal

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from slm.data import model_budget_tokens
from slm.engine import EngineConfig, ScoringEngine
from slm.load import load_model
from slm.manifest import Calibration, Manifest, OutputError, PruningRecord, write_manifest
from slm.progress import tracked
from slm.prune.calibrate import DEFAULT_CALIBRATION_QUERIES, onet_grams
from slm.prune.layers import mlps, narrow
from slm.prune.osscar import magnitude, select
from slm.scorer import Scorer
from slm.train import freeze_for_serving

Method = Literal["osscar", "magnitude"]
# Widths are rounded to a multiple of 32: bf16 matmul kernels (AVX512, AMX tiles, tensor cores)
# work in 16- or 32-wide blocks, so an odd width wastes a partial block in every layer.
WIDTH_MULTIPLE = 32


def pruned_width(intermediate: int, keep: float) -> int:
    """Neurons kept per MLP for a kept fraction `keep` in (0, 1]."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    step = min(WIDTH_MULTIPLE, intermediate)
    return min(intermediate, max(step, round(intermediate * keep / step) * step))


def prune_model(model: PreTrainedModel, grams: list[torch.Tensor], width: int, method: Method) -> list[float]:
    choose = select if method == "osscar" else magnitude
    errors = []
    for mlp, gram in tracked(list(zip(mlps(model), grams, strict=True)), f"pruning MLPs ({method})"):
        chosen = choose(mlp.down_proj.weight, gram, width)
        narrow(mlp, chosen.kept.to(mlp.down_proj.weight.device), chosen.weight)
        errors.append(chosen.error)
    model.config.intermediate_size = width
    return errors


def parameters(model: PreTrainedModel) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


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
    grams, tokens = onet_grams(scorer, onet_dir, model_budget_tokens(src), calibration_queries)
    before, params = model.config.intermediate_size, parameters(model)
    width = pruned_width(before, keep)
    errors = prune_model(model, grams, width, method)
    pruning = PruningRecord(
        method=method,
        source=loaded.name,
        keep=keep,
        intermediate_size=(before, width),
        parameters=(params, parameters(model)),
        calibration=Calibration(split="train", queries=calibration_queries, tokens=tokens),
        output_error=OutputError(mean=sum(errors) / len(errors), max=max(errors), per_layer=errors),
        seconds=round(time.perf_counter() - began, 1),
    )
    name = f"{loaded.name}-{method}-{width}"
    manifest = loaded.manifest.model_copy(update={"name": name, "pruning": pruning, "evaluation": None})
    _save(model, loaded.tokenizer, manifest, out)
    return manifest


def _save(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, manifest: Manifest, out: Path) -> None:
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    freeze_for_serving(model, torch.bfloat16).save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    write_manifest(partial, manifest)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
