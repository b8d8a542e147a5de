"""`rankstream model build`: the default model, from the base model and O*NET, in one command.

Contract: `build_default(out, home, onet_dir, ...) -> dict` fetches the base model (cached under
`<home>/models/`), builds the training lists (O*NET train split, contexts from the worker's extractive
compressor at `budget_tokens`), trains (`slm.train`, checkpointed under `<home>/runs/`, so a rerun
after a crash resumes), saves bf16 safetensors, the tokenizer and the manifest, evaluates BM25 and
the trained model on a deterministic subsample of the test and unseen splits (`slm.eval`, JSON
beside the weights), and returns the manifest. The directory appears whole or not at all (built
as `<out>.partial`, then renamed over any previous model).

Budget: the defaults finish in ≤ 25 minutes on a 2-core AVX512-BF16 CPU with the base uncached
(`DEFAULT_STEPS`, `DEFAULT_EVAL_QUERIES` say what was traded). Ignores: the zero-shot base model's
evaluation (`rankstream model eval` adds it) and full-context evaluation.
"""

import hashlib
import json
import shutil
import time
from pathlib import Path

import torch

from compressor import DEFAULT_BUDGET_TOKENS, ExtractiveCompressor
from slm.data import ATTRIBUTION, Onet, compressed_contexts, load_onet, split_queries, train_blocks, train_sampler
from slm.data.contexts import Contexts
from slm.data.lists import Lists
from slm.eval import evaluate
from slm.load import LoadedModel, load_model, write_manifest
from slm.prompt import JOB_FIRST, LABELS, build_pieces
from slm.tokens import TextEncoder
from slm.train import TrainConfig, TrainStats, freeze_for_serving, train
from slm.train.config import train_layers_for
from slm.weights.bases import TRAINING_BASE, BaseModel, fetch_base

# 95 blocks of 24 queries x 8 postings (2,280 lists, about half an epoch of the 4.3k train queries,
# 0.27M tokens, 4.9 min at ~920 tokens/s with Gemma 3 270M's top 10 layers trained; the whole build 7.4
# min with the base cached). The pilots' dev NDCG had plateaued by then (`slm.train.config`: 285 steps,
# 1.6 epochs, scored the same), so the budget left is not spent on steps; `--steps` trains longer.
DEFAULT_STEPS = 95
# Queries per evaluation split: 100 x 50 candidates, ~80 s per split for the trained model with the
# prefix cache, NDCG@10 standard error ~0.03: the same samples as the README's tables. The CLI's
# --eval-queries help repeats this number (the CLI imports no torch until a command runs).
DEFAULT_EVAL_QUERIES = 100
EVAL_SPLITS = ("test", "unseen")
# The check's scorers keep posting prefixes (`slm.engine.prefix_cache`): a split's 100 queries list a few
# hundred postings, most of them more than once (the worker's default size).
EVAL_PREFIX_CACHE_MB = 1024


def run_dir(home: Path, config: TrainConfig, budget_tokens: int, base: Path) -> Path:
    """Checkpoints of this recipe: a changed config, budget or base starts a fresh run."""
    recipe = {"config": config.as_dict(), "budget_tokens": budget_tokens, "base": str(base.resolve())}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]
    return home / "runs" / f"{base.resolve().name}-{digest}"


def training_lists(onet: Onet, contexts: Contexts, config: TrainConfig) -> Lists:
    """What the recipe trains on: blocks for the job-first prompt (a posting is scored for a block's
    queries at once), one list per query otherwise."""
    if config.prompt == JOB_FIRST:
        return train_blocks(onet, contexts, config.lists_per_step, config.list_size, config.seed)
    return train_sampler(onet, contexts, config.list_size, config.seed)


def _training_summary(stats: TrainStats, config: TrainConfig, train_queries: int, layers: int) -> dict:
    tail = stats.losses[-min(len(stats.losses), 20) :]
    return {
        "data": "O*NET 27.0 train split: reported titles as queries, occupations as postings",
        "queries": train_queries,
        "lists": stats.steps * config.lists_per_step,
        "steps": stats.steps,
        "resumed_from_step": stats.resumed_from,
        "tokens": stats.tokens,  # this invocation's only: a resumed build counts the steps since its checkpoint
        "seconds": round(stats.seconds, 1),
        "seed": config.seed,
        "trained": f"top {config.train_layers} of {layers} decoder layers and the final norm",
        "final_loss": round(sum(tail) / max(len(tail), 1), 4),
        "config": config.as_dict(),
    }


def _manifest(loaded: LoadedModel, config: TrainConfig, budget: int, training: dict, base: BaseModel | None) -> dict:
    """What the directory holds; a custom base (say, a pruned model) is named, and its pruning kept."""
    pieces = build_pieces(loaded.tokenizer, config.prompt)
    carried = {"pruning": loaded.manifest["pruning"]} if base is None and "pruning" in loaded.manifest else {}
    return {
        **carried,
        "name": f"{loaded.name}-sft" if base is None else base.trained_name,
        "base_model": loaded.name if base is None else base.source,
        "base_name": loaded.name if base is None else base.name,
        "trained": True,
        "prompt": config.prompt,
        "labels": list(LABELS[config.prompt]),
        "label_token_ids": {"yes": pieces.yes_id, "no": pieces.no_id},
        "compressor": {"id": ExtractiveCompressor(budget).id, "budget_tokens": budget},
        "training": training,
        "attribution": ATTRIBUTION,
    }


def _evaluation(model_dir: Path, onet_dir: Path, eval_queries: int, budget_tokens: int) -> dict:
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
        rows = result["rows"]
        blended = next(r for r in rows if "first_stage_weight" in r)
        model = next(r for r in reversed(rows) if "first_stage_weight" not in r)
        strip = ("system", "context", "model_dir", "seconds", "context_budget_tokens")
        metrics[split] = {
            "queries": result["queries"],
            "queries_in_split": result["queries_in_split"],
            "bm25": {k: round(v, 4) for k, v in rows[0].items() if k not in strip},
            "model": {k: round(v, 4) for k, v in model.items() if k not in strip},
            "model_blended_with_bm25": {k: round(v, 4) for k, v in blended.items() if k not in strip},
        }
    return metrics


def build_default(
    out: Path,
    home: Path,
    onet_dir: Path,
    budget_tokens: int | None = None,
    steps: int | None = None,
    eval_queries: int | None = None,
    threads: int | None = None,
    base: Path | None = None,
    base_model: BaseModel = TRAINING_BASE,
) -> dict:
    """Build the model into `out`; None arguments take the defaults; `base` (a directory) replaces
    the fetched `base_model`."""
    began = time.perf_counter()
    budget = budget_tokens or DEFAULT_BUDGET_TOKENS
    base_path = base or fetch_base(home, base_model)
    loaded = load_model(base_path, dtype="auto", threads=threads)
    layers = loaded.model.config.num_hidden_layers
    config = TrainConfig(steps=steps or DEFAULT_STEPS, train_layers=train_layers_for(layers))
    onet = load_onet(onet_dir)
    contexts = compressed_contexts(onet.postings, TextEncoder(loaded.tokenizer).encode, budget)
    sampler = training_lists(onet, contexts, config)
    run = run_dir(home, config, budget, base_path)
    stats = train(loaded.model, loaded.tokenizer, sampler, config, run)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    freeze_for_serving(loaded.model, torch.bfloat16).save_pretrained(partial, safe_serialization=True)
    loaded.tokenizer.save_pretrained(partial)
    training = _training_summary(stats, config, len(split_queries(onet)["train"]), layers)
    manifest = _manifest(loaded, config, budget, training, None if base else base_model)
    write_manifest(partial, manifest)  # evaluation loads the model through it (prompt, budget)
    manifest["evaluation"] = _evaluation(partial, onet_dir, eval_queries or DEFAULT_EVAL_QUERIES, budget)
    manifest["build_seconds"] = round(time.perf_counter() - began, 1)
    write_manifest(partial, manifest)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    shutil.rmtree(run)  # checkpoints only serve a crashed build's rerun
    return manifest
