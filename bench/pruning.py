"""`python -m bench.pruning [--quick] [--model DIR] [--whole-splits | --split-queries N] [--recovery-steps N]`:
what structured pruning costs in ranking quality and buys in speed and memory, by method, share kept and recovery.

The table: method (magnitude: MLP neurons by activation-weighted norm; layer-drop: whole decoder
layers whose skipping changes the scores least; osscar: MLP neurons; osscar-heads: MLP neurons and attention heads)
x share kept (`KEEP`; `QUICK_KEEP` with --quick) x recovery (none; sft: the default model's recipe
on the hard labels; distill: the same with the listwise KL to the unpruned model's scores beside it,
`slm.train.distill`'s recovery). Steps:
1. Calibrate the model once (`slm.prune.calibrate`: 64 O*NET train queries with their BM25 top 50,
   and one pass per layer skipped for layer dropping).
2. For each method and share: prune a copy in memory (`slm.prune.prune_model`), save it as a plain
   model directory; for each recovery, train that directory's model (`recovery_steps` steps of
   the default recipe, its top layers' share) and save it too.
3. Measure every directory in a process of its own (`bench.pruning_row`: parameters total and
   non-embedding, NDCG@10 on the test and unseen samples, or the whole splits, items/s with no
   cache, served items/s with the worker's prefix cache, peak RSS). The unpruned model runs first
   and last; speedups are against the mean of the two (a busy machine's drift shows as their gap).
Writes bench/results/pruning.json and .png. Ignores: the build's choice of a default
(`rankstream model build --prune`); the directories are deleted once measured.
"""

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from bench.pruning_plot import write_plot
from bench.pruning_row import run_row
from bench.runner import QUICK_QUERIES_HELP, bench_parser, described, finish, parse, print_rows
from slm.data import compressed_contexts, load_onet, model_budget_tokens
from slm.engine import EngineConfig, ScoringEngine
from slm.load import LoadedModel, load_model
from slm.prompt import CHAT
from slm.prune import METHODS, Method, prune_model, save_model
from slm.prune.calibrate import DEFAULT_CALIBRATION_QUERIES, Statistics, onet_statistics
from slm.scorer import Scorer
from slm.tokens import TextEncoder
from slm.train import TrainConfig, train
from slm.train.build import DEFAULT_STEPS, training_lists
from slm.train.config import DISTILL_WEIGHT, train_layers_for

KEEP = (0.75, 0.5)
QUICK_KEEP = (0.5,)
RECOVERIES = ("none", "sft", "distill")
# A quick run's recovery: enough steps to exercise training and saving, not to recover.
QUICK_RECOVERY_STEPS = 10


def calibrated(loaded: LoadedModel, model_dir: Path, onet_dir: Path) -> Statistics:
    pieces = loaded.manifest.pieces(loaded.tokenizer)
    engine = ScoringEngine(loaded.model, pieces.yes_id, pieces.no_id, EngineConfig())
    scorer = Scorer(loaded.tokenizer, engine, "calibration", pieces)
    budget = model_budget_tokens(model_dir)
    return onet_statistics(scorer, onet_dir, budget, DEFAULT_CALIBRATION_QUERIES, heads=True, depth=True)


def recovered(teacher: LoadedModel, pruned_dir: Path, recovery: str, steps: int, onet_dir: Path, out: Path) -> None:
    """Train the pruned directory's model by the default recipe (distilled from `teacher` for
    "distill") and save it to `out`."""
    student = load_model(pruned_dir, dtype="auto")
    depth = student.model.config.num_hidden_layers
    weight = DISTILL_WEIGHT if recovery == "distill" else 0.0
    prompt = teacher.manifest.prompt or CHAT
    config = TrainConfig(steps=steps, train_layers=train_layers_for(depth), distill_weight=weight, prompt=prompt)
    onet = load_onet(onet_dir)
    encode = TextEncoder(student.tokenizer).encode
    contexts = compressed_contexts(onet.postings, encode, model_budget_tokens(pruned_dir))
    lists = training_lists(onet, contexts, config)
    train(student.model, student.tokenizer, lists, config, teacher=teacher.model if weight else None)
    save_model(student.model, student.tokenizer, student.manifest.model_copy(update={"name": out.name}), out)


def variant_rows(
    teacher: LoadedModel, stats: Statistics, method: Method, keep: float, args: dict, work: Path
) -> list[dict]:
    """One method at one share: pruned, then each recovery, each measured."""
    model = copy.deepcopy(teacher.model)
    pruned = prune_model(model, stats, method, keep)
    rows = []
    for recovery in RECOVERIES:
        out = work / f"{method}-{round(keep * 100)}-{recovery}"
        if recovery == "none":
            save_model(model, teacher.tokenizer, teacher.manifest.model_copy(update={"name": out.name}), out)
        else:
            recovered(teacher, work / f"{method}-{round(keep * 100)}-none", recovery, args["steps"], args["onet"], out)
        about = {"variant": f"{method} {keep:.0%} {recovery}", "method": method, "keep": keep, "recovery": recovery}
        errors = pruned.mlp_errors + pruned.head_errors
        about["output_error"] = round(float(np.mean(errors)), 4) if errors else None
        rows.append({**about, **run_row(out, args["onet"], args["queries"], args["threads"])})
        print(f"  {about['variant']}: {rows[-1]}")
    return rows


def run(
    model_dir: Path, onet_dir: Path, queries: int | None, keeps: Sequence[float], steps: int, threads: int | None
) -> dict:
    teacher = load_model(model_dir, dtype="auto")
    stats = calibrated(teacher, model_dir, onet_dir)
    args = {"onet": onet_dir, "queries": queries, "threads": threads or torch.get_num_threads(), "steps": steps}
    unpruned = {"variant": "unpruned", "method": None, "keep": 1.0, "recovery": None, "output_error": 0.0}
    rows = [{**unpruned, **run_row(model_dir, onet_dir, queries, args["threads"])}]
    with tempfile.TemporaryDirectory(prefix="bench-pruning-") as work:
        for keep in keeps:
            for method in METHODS:
                rows += variant_rows(teacher, stats, method, keep, args, Path(work))
    rows.append({**unpruned, **run_row(model_dir, onet_dir, queries, args["threads"])})
    baseline = np.mean([r["items_per_s"] for r in rows if r["method"] is None])
    for row in rows:
        row["speedup_vs_unpruned"] = round(row["items_per_s"] / baseline, 2)
    about = {"calibration_queries": DEFAULT_CALIBRATION_QUERIES, "recovery_steps": steps, "splits": "test, unseen"}
    return described(model_dir, rows[0]["queries_test"], rows, **about)


def print_table(result: dict) -> None:
    columns = ("variant", "params M", "non-emb M", "err", "items/s", "speedup", "served/s", "RSS MB", "test", "unseen")
    cells = []
    for r in result["rows"]:
        error = "-" if r["output_error"] is None else f"{r['output_error']:.3f}"
        size = (f"{r['parameters_m']:.1f}", f"{r['non_embedding_parameters_m']:.1f}", error)
        speed = (f"{r['items_per_s']:.0f}", f"{r['speedup_vs_unpruned']:.2f}x", f"{r['served_items_per_s']:.0f}")
        quality = (f"{r['ndcg@10_test']:.3f}", f"{r['ndcg@10_unseen']:.3f}")
        cells.append((r["variant"], *size, *speed, f"{r['rss_mb']:.0f}", *quality))
    first = result["rows"][0]
    title = f"pruning: NDCG@10 on {first['queries_test']} test and {first['queries_unseen']} unseen queries x top 50"
    print_rows(title, columns, cells)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "pruning.json", QUICK_QUERIES_HELP, model=True, onet=True)
    parser.add_argument("--whole-splits", action="store_true", help="NDCG@10 on the whole test and unseen splits")
    parser.add_argument("--recovery-steps", type=int, default=None, help=f"default {DEFAULT_STEPS} (quick: 10)")
    parser.add_argument("--split-queries", type=int, default=None, help="queries per split (instead of 100, quick 30)")
    args = parse(parser, argv)
    steps = args.recovery_steps or (QUICK_RECOVERY_STEPS if args.quick else DEFAULT_STEPS)
    queries = None if args.whole_splits else args.split_queries or args.queries
    keeps = QUICK_KEEP if args.quick else KEEP
    result = run(args.model, args.onet_dir, queries, keeps, steps, args.threads)
    finish(result, args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
