"""`python -m bench.scorer [--quick]`: the scoring engine against the naive baseline, in one process.

For each model (tiny, SmolLM2-135M, a Qwen3-0.6B-shaped random model) and item length (~60 tokens
"compressed", ~450 "full"), on the same inputs (20-token queries x 32 real job postings):

- naive: what a user would write: AutoModelForCausalLM in fp32, padded batches of 32 (query+item)
  prompts, full logits, the label logits read at the last non-pad position.
- pairwise, multi-item: the engine (`slm.engine` behind the `Scorer` API) in bf16 where the CPU has
  it, at every token budget of the sweep; multi-item+compile: the same with `compile=True`. The
  table shows each at its best budget; the JSON and the plot keep the whole sweep.

Rows are interleaved round by round and each keeps its best time, so a busy shared machine
disturbs all rows alike. Each row reports items/s, useful FLOPs (2 x non-embedding params x tokens,
the query prefix once per request) over the matmul peak of its dtype (a large torch.mm, measured
each round, best kept), its peak RSS and how its scores rank (Spearman) against the naive fp32
scores and against pairwise on the same model copy (the multi-item == pairwise check in bf16).

Peak RSS: the process's high-water mark during the row (`bench.machine.PeakRss`) minus the
parameter bytes of the other model copies this process keeps resident to interleave rows (the fp32
baseline's, the compiled copy's). A worker process holds one copy; the run re-measures the best
SmolLM2 multi-item row in a fresh process (`bench.scorer_rss`), the number the RSS target is
judged by. Writes bench/results/scorer.json and .png.
"""

import copy
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel

from bench.machine import PeakRss, machine, matmul_peak
from bench.runner import bench_parser, finish, parse
from bench.scorer_inputs import ATTRIBUTION, ITEM_TOKENS, BenchModel, load_bench_model, workload
from bench.scorer_naive import naive_batch, naive_scores
from bench.scorer_report import print_table, summarize, write_plot
from bench.scorer_rss import fresh_process_rss
from slm.engine import EngineConfig, Mode, ScoringEngine, compile_elementwise
from slm.engine.packing import ScoreRequest
from slm.load import resolve_dtype
from slm.prompt import build_pieces
from slm.scorer import EncodedQuery, Scorer
from slm.weights.bases import fetch_base

MODELS = ("tiny", "smollm2-135m", "qwen3-0.6b-shape")
KINDS = tuple(ITEM_TOKENS)
RSS_CHECK_MODEL = "smollm2-135m"  # the model of the RSS target, re-measured in a fresh process


@dataclass(frozen=True)
class Plan:
    """How much to measure for one model and item length."""

    requests: int  # of 32 items each; the naive fp32 baseline of the largest model sets the scale
    budgets: tuple[int, ...]
    rounds: int
    compile: bool = True


SWEEP, LONG_SWEEP, SHORT_SWEEP = (1024, 2048, 4096, 8192), (2048, 4096, 8192), (2048, 8192)
FULL = {
    ("tiny", "compressed"): Plan(4, SWEEP, 2),
    ("tiny", "full"): Plan(2, SWEEP, 2),
    ("smollm2-135m", "compressed"): Plan(2, SWEEP, 2),
    ("smollm2-135m", "full"): Plan(1, LONG_SWEEP, 2),
    ("qwen3-0.6b-shape", "compressed"): Plan(1, SHORT_SWEEP, 2),
    ("qwen3-0.6b-shape", "full"): Plan(1, SHORT_SWEEP, 1),
}
# A smoke run under a minute: no compile (its first batch alone takes ~20 s), one round.
QUICK = {
    ("tiny", "compressed"): Plan(1, (2048,), 1, compile=False),
    ("smollm2-135m", "compressed"): Plan(1, (2048,), 1, compile=False),
}


@dataclass(eq=False)  # rows are dict keys by identity
class Row:
    variant: str  # "naive" | "pairwise" | "multi-item" | "multi-item+compile"
    mode: str  # "naive" | "pairwise" | "multi-item"
    budget: int | None
    model: PreTrainedModel
    seconds: float = float("inf")
    rss_mb: float = 0.0
    scores: list[np.ndarray] = field(default_factory=list)


def non_embedding_params(model: PreTrainedModel) -> int:
    body, embed = model.get_decoder(), model.get_input_embeddings()
    return sum(p.numel() for p in body.parameters()) - sum(p.numel() for p in embed.parameters())


def param_bytes(model: PreTrainedModel) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def engine_copies(bench: BenchModel, compile: bool) -> dict[str, PreTrainedModel]:
    """Engine-side model copies in the engine's dtype: eager, and compiled if asked."""
    eager = copy.deepcopy(bench.model).to(resolve_dtype("auto", torch.device("cpu")))
    copies = {"": eager}
    if compile:
        compiled = copy.deepcopy(eager)
        compile_elementwise(compiled.get_decoder())
        copies["+compile"] = compiled
    return copies


def rows_and_runs(bench: BenchModel, plan: Plan, queries: list[EncodedQuery]) -> tuple[dict, list[ScoreRequest]]:
    """Every row of the plan with the call that scores the queries for it."""
    pieces = build_pieces(bench.tokenizer)
    runs: dict[Row, Callable[[], Sequence[Sequence[float]]]] = {}
    for suffix, model in engine_copies(bench, plan.compile).items():
        modes: tuple[Mode, ...] = ("pairwise", "multi-item") if not suffix else ("multi-item",)
        for mode in modes:
            for budget in plan.budgets:
                config = EngineConfig(token_budget=budget, mode=mode)
                engine = ScoringEngine(model, pieces.yes_id, pieces.no_id, config)
                scorer = Scorer(bench.tokenizer, engine, bench.name)
                runs[Row(f"{mode}{suffix}", mode, budget, model)] = partial(scorer.score_encoded, queries)
    scored = scorer.requests(queries).requests  # the prompts every row scores
    batch = naive_batch(bench.model, scored)
    naive = Row("naive", "naive", batch, bench.model)  # its budget: the padded batch size
    run = partial(naive_scores, bench.model, scored, pieces.yes_id, pieces.no_id, batch)
    return {naive: run, **runs}, scored


def measure(bench: BenchModel, kind: str, plan: Plan, data: Path, peaks: dict[str, float]) -> dict:
    """All rows of one model and item length, interleaved for the plan's rounds. The matmul peak is
    measured again each round (into `peaks`, keeping the best), so it sees the same machine."""
    queries = workload(data, bench.tokenizer, kind, plan.requests)
    runs, scored = rows_and_runs(bench, plan, queries)
    resident = {id(row.model): row.model for row in runs}
    for _ in range(plan.rounds):
        for dtype in peaks:
            peaks[dtype] = max(peaks[dtype], matmul_peak(getattr(torch, dtype)))
        for row, score in runs.items():
            gc.collect()
            others = sum(param_bytes(m) for key, m in resident.items() if key != id(row.model))
            _time(row, score, others / 2**20)
    return _result(list(runs), scored, non_embedding_params(bench.model))


def _time(row: Row, score: Callable[[], Sequence[Sequence[float]]], others_mb: float) -> None:
    with PeakRss() as rss:
        start = time.perf_counter()
        scores = score()
        seconds = time.perf_counter() - start
    row.seconds, row.rss_mb = min(row.seconds, seconds), max(row.rss_mb, rss.mb - others_mb)
    row.scores = row.scores or [np.asarray(s) for s in scores]


def _result(rows: list[Row], scored: list[ScoreRequest], params: int) -> dict:
    items = sum(len(r.items) for r in scored)
    useful_tokens = sum(len(r.prefix) + sum(map(len, r.items)) for r in scored)
    pairwise = {(id(row.model), row.budget): row.scores for row in rows if row.mode == "pairwise"}
    return {
        "items": items,
        "useful_tokens": useful_tokens,
        "non_embedding_params": params,
        "rows": [
            _row(row, items, useful_tokens, params, rows[0].scores, pairwise.get((id(row.model), row.budget)))
            for row in rows
        ],
    }


def _row(row: Row, items: int, tokens: int, params: int, naive: list, pairwise: list | None) -> dict:
    return {
        "variant": row.variant,
        "mode": row.mode,
        "budget": row.budget,
        "dtype": str(row.model.dtype).removeprefix("torch."),
        "seconds": row.seconds,
        "items_per_s": items / row.seconds,
        "useful_flops_per_s": 2 * params * tokens / row.seconds,
        "peak_rss_mb": row.rss_mb,
        "min_spearman_vs_naive": min_spearman(row.scores, naive),
        "max_abs_diff_vs_naive": max(float(np.abs(a - b).max()) for a, b in zip(row.scores, naive, strict=True)),
        "min_spearman_vs_pairwise": min_spearman(row.scores, pairwise) if pairwise else None,
    }


def min_spearman(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The worst request's rank correlation (Pearson of the ranks; continuous scores have no ties)."""
    return min(
        float(np.corrcoef(x.argsort().argsort(), y.argsort().argsort())[0, 1]) for x, y in zip(a, b, strict=True)
    )


def run(models: Sequence[str], plans: dict[tuple[str, str], Plan], data: Path, home: Path) -> dict:
    peaks = {"bfloat16": 0.0, "float32": 0.0}
    results: dict = {"machine": machine(), "peak_flops": peaks, "models": {}, "attribution": ATTRIBUTION}
    for name in models:
        bench = load_bench_model(name, home)
        kinds = [kind for kind in KINDS if (name, kind) in plans]
        results["models"][name] = {kind: measure(bench, kind, plans[name, kind], data, peaks) for kind in kinds}
        del bench
        gc.collect()
    summarize(results)
    for kind, result in results["models"].get(RSS_CHECK_MODEL, {}).items():
        budget = result["best_budget"]["multi-item"]
        requests = plans[RSS_CHECK_MODEL, kind].requests
        result["fresh_process_rss_mb"] = fresh_process_rss(fetch_base(home), budget, "multi-item", kind, requests, data)
    return summarize(results)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "scorer.json", "smoke run: tiny + SmolLM2, compressed items, one round", data=True)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=None, help="a subset of the plan's models")
    args = parse(parser, argv)
    plans = QUICK if args.quick else FULL
    models = [m for m in (args.models or MODELS) if any(name == m for name, _ in plans)]
    finish(run(models, plans, args.data, args.home.resolve()), args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
