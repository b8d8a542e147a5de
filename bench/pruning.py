"""`python -m bench.pruning [--quick] [--model DIR] [--recovered DIR ...]`: what structured pruning of
the MLPs costs in ranking quality and buys in speed, OSSCAR against the magnitude baseline.

The default model is calibrated once (`slm.prune.calibrate`: 16 O*NET train queries with their BM25
top 50), then pruned in memory to each kept fraction by each method (`slm.prune.prune_model`), and
every variant serves the same workload as `bench.serving` (the ranking sample, `bench.sample`: O*NET
test queries in a seeded order, BM25's top 50 each, as compressed contexts, one query per call, the
worker's default 1,024 MB prefix cache, cold): served items/s, per-call P99 and NDCG@10 from its own
scores. Compute speed is measured apart, where a pass's drift matters less: the first
`SPEED_QUERIES` queries with no cache (every posting run), best of `SPEED_REPEATS`. No recovery
training happens here; `--recovered DIR` adds rows for pruned models trained afterwards
(`rankstream model prune`, then `rankstream model build --base`). The unpruned model runs first
and last; speedups are against the mean of the two (a busy machine's drift shows as their gap).
Writes bench/results/pruning.json and .png.
"""

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from transformers import PreTrainedModel

from bench.pruning_plot import write_plot
from bench.runner import QUICK_QUERIES_HELP, bench_parser, described, finish, parse, print_rows
from bench.sample import first
from bench.serving import serve, workload
from slm.data import ContextsByJob, model_budget_tokens
from slm.engine import EngineConfig, ScoringEngine
from slm.eval.evaluate import EvalSet
from slm.load import LoadedModel, load_model
from slm.manifest import Manifest
from slm.prune import Method, parameters, prune_model
from slm.prune.calibrate import DEFAULT_CALIBRATION_QUERIES, onet_statistics
from slm.scorer import Scorer

KEEP = (0.75, 0.5)
METHODS: tuple[Method, ...] = ("osscar", "magnitude")
CACHE_MB = 1024  # the worker's default (RANKSTREAM_PREFIX_CACHE_MB)
# 5 queries x 50 postings, no cache: ~250 prefixes and items, ~10 s for the unpruned model; best of 3
# drops a pass slowed by the machine.
SPEED_QUERIES = 5
SPEED_REPEATS = 3


def scorer_for(loaded: LoadedModel, model: PreTrainedModel, name: str, cache_mb: int = CACHE_MB) -> Scorer:
    pieces = loaded.manifest.pieces(loaded.tokenizer)
    engine = ScoringEngine(model, pieces.yes_id, pieces.no_id, EngineConfig(prefix_cache_bytes=cache_mb << 20))
    engine.warmup()
    return Scorer(loaded.tokenizer, engine, name, pieces)


def measured(loaded: LoadedModel, model: PreTrainedModel, about: dict, evals: EvalSet, contexts: ContextsByJob) -> dict:
    row, _, _ = serve(scorer_for(loaded, model, about["variant"]), CACHE_MB, evals, contexts)
    row = {"served_items_per_s": row["items_per_s"], **{k: v for k, v in row.items() if k != "items_per_s"}}
    speed = scorer_for(loaded, model, about["variant"], cache_mb=0)
    head = first(evals, SPEED_QUERIES)
    row["items_per_s"] = max(serve(speed, 0, head, contexts)[0]["items_per_s"] for _ in range(SPEED_REPEATS))
    size = {"parameters_m": round(parameters(model) / 1e6, 1), "mlp_width": model.config.intermediate_size}
    print(f"  {about['variant']}: {row['items_per_s']} items/s (no cache), NDCG@10 {row['ndcg@10']}")
    return {**about, **size, **row}


def run(model_dir: Path, onet_dir: Path, queries: int, recovered: list[Path]) -> dict:
    evals, contexts = workload(model_dir, onet_dir, queries)
    loaded = load_model(model_dir, dtype="auto")
    calibration = scorer_for(loaded, loaded.model, "calibration", cache_mb=0)
    stats = onet_statistics(calibration, onet_dir, model_budget_tokens(model_dir), DEFAULT_CALIBRATION_QUERIES)

    def unpruned() -> dict:
        about = {"variant": "unpruned", "method": None, "keep": 1.0, "output_error": 0.0}
        return measured(loaded, loaded.model, about, evals, contexts)

    rows = [unpruned()]
    for keep in KEEP:
        for method in METHODS:
            model = copy.deepcopy(loaded.model)
            errors = prune_model(model, stats, method, keep).mlp_errors
            about = {"variant": f"{method} {keep:.0%}", "method": method, "keep": keep}
            about["output_error"] = round(float(np.mean(errors)), 4)
            rows.append(measured(loaded, model, about, evals, contexts))
    for path in recovered:
        other = load_model(path, dtype="auto")
        rows.append(measured(other, other.model, recovered_about(path, other.manifest), evals, contexts))
    rows.append(unpruned())
    baseline = np.mean([r["items_per_s"] for r in rows if r["variant"] == "unpruned"])
    for row in rows:
        row["speedup_vs_unpruned"] = round(row["items_per_s"] / baseline, 2)
    about = {"calibration_queries": DEFAULT_CALIBRATION_QUERIES, "prefix_cache_mb": CACHE_MB}
    return described(model_dir, len(evals.queries), rows, **about)


def recovered_about(path: Path, manifest: Manifest) -> dict:
    """A pruned, then trained, model's row labels from its manifest (a record it lacks reads as None)."""
    pruning, training = manifest.pruning, manifest.training
    method, keep = (pruning.method, pruning.keep) if pruning else (None, None)
    variant = f"{method} {1 if keep is None else keep:.0%} + SFT {training.steps if training else None} steps"
    error = pruning.output_error.mean if pruning else None
    return {"variant": variant, "method": method, "keep": keep, "model_dir": str(path), "output_error": error}


def print_table(result: dict) -> None:
    columns = ("variant", "params M", "MLP", "output err", "items/s", "speedup", "served items/s", "NDCG@10")
    cells = []
    for r in result["rows"]:
        error = "-" if r["output_error"] is None else f"{r['output_error']:.3f}"
        size = (f"{r['parameters_m']:.1f}", str(r["mlp_width"]), error)
        speed = (f"{r['items_per_s']:.0f}", f"{r['speedup_vs_unpruned']:.2f}x", f"{r['served_items_per_s']:.0f}")
        cells.append((r["variant"], *size, *speed, f"{r['ndcg@10']:.3f}"))
    title = f"pruning the default model's MLPs: {result['queries']} test queries x top 50, one per call"
    print_rows(title, columns, cells)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "pruning.json", QUICK_QUERIES_HELP, model=True, onet=True)
    parser.add_argument("--recovered", type=Path, nargs="*", default=[], help="pruned, then trained, model dirs")
    args = parse(parser, argv)
    finish(run(args.model, args.onet_dir, args.queries, args.recovered), args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
