"""`python -m bench.serving [--quick] [--model DIR]`: the default model as the worker serves it,
with the prefix cache off and on.

Workload: the benchmarks' ranking sample (`bench.sample`: O*NET test-split queries, 100 or 30 with
--quick, in a seeded order, each with BM25's top 50 postings) as compressed contexts, scored one
query per call: the batch the worker's batcher forms at its default settings (a query of 50
candidates is estimated at 64 + 50 x 88 tokens, over the 4,096-token budget, so it goes alone).
With the job-first default model every posting is a prefix, so without a cache each call runs all
50 postings again; with one, a posting met before costs only its queries' tokens.

Each configuration is a fresh scorer on the same stream: the cache off, then on at each size, then
off again (a busy machine's drift shows as a gap between the two off rows; speedups are against
their mean). Per configuration: items/s, per-call latency P50/P99, the cache's hit ratio and bytes,
NDCG@10 from its own scores, and the largest score change against the cache off (bf16 rounding
only: a cached prefix's keys are the ones it computed). Writes bench/results/serving.json and .png.
"""

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.runner import QUICK_QUERIES_HELP, bench_parser, described, finish, parse, print_rows
from bench.sample import ranking_sample
from bench.serving_plot import label, write_plot
from slm.data.contexts import ContextsByJob, compressed_contexts, model_budget_tokens
from slm.eval.evaluate import EvalSet, ranked
from slm.eval.metrics import CUTOFF, mean_metrics
from slm.scorer import EncodedQuery, Scorer
from slm.tokens import TextEncoder

# ~190, ~760 and ~3,000 postings of the default model (~1.35 MB each); the 100-query stream lists 974.
CACHE_SIZES_MB = (256, 1024, 4096)


def workload(model: Path, onet_dir: Path, queries: int) -> tuple[EvalSet, ContextsByJob]:
    evals, postings = ranking_sample(onet_dir, queries)
    encode = TextEncoder.load(model).encode
    return evals, compressed_contexts(list(postings.values()), encode, model_budget_tokens(model))


def serve(
    scorer: Scorer, cache_mb: int, evals: EvalSet, contexts: ContextsByJob
) -> tuple[dict, list[list[float]], list[float]]:
    """One pass of a scorer over the whole stream, one query per call: the row, the scores, each
    call's seconds."""
    cache = scorer.prefix_cache
    before = (cache.hits, cache.misses) if cache else (0, 0)
    calls, scores = [], []
    for query, candidates in zip(evals.queries, evals.candidates, strict=True):
        start = time.perf_counter()
        (s,) = scorer.score_encoded([EncodedQuery(query.text, [contexts[j] for j in candidates])])
        calls.append(time.perf_counter() - start)
        scores.append(s)
    items = sum(map(len, evals.candidates))
    hits, misses = (cache.hits - before[0], cache.misses - before[1]) if cache else (0, 0)
    row = {
        "prefix_cache_mb": cache_mb,
        "items": items,
        "seconds": round(sum(calls), 2),
        "items_per_s": round(items / sum(calls), 1),
        "call_p50_ms": round(1e3 * float(np.percentile(calls, 50)), 1),
        "call_p99_ms": round(1e3 * float(np.percentile(calls, 99)), 1),
        "hit_ratio": round(hits / max(hits + misses, 1), 3) if cache else None,
        "cache_mb_used": round(cache.bytes / 2**20, 1) if cache else None,
        f"ndcg@{CUTOFF}": round(mean_metrics(ranked(evals, scores), evals.judgments, CUTOFF)[f"ndcg@{CUTOFF}"], 4),
    }
    return row, scores, calls


def run(model: Path, onet_dir: Path, queries: int) -> dict:
    evals, contexts = workload(model, onet_dir, queries)
    rows: list[dict] = []
    reference = None
    for cache_mb in (0, *CACHE_SIZES_MB, 0):
        scorer = Scorer.load(model, prefix_cache_mb=cache_mb)
        # The largest cache holds the whole stream: a second pass shows a warm cache (every posting met before).
        for second_pass in (False, True) if cache_mb == max(CACHE_SIZES_MB) else (False,):
            row, scores, _ = serve(scorer, cache_mb, evals, contexts)
            flat = np.concatenate([np.asarray(s) for s in scores])
            reference = flat if reference is None else reference
            rows.append({**row, "second_pass": second_pass, "max_score_change": float(np.abs(flat - reference).max())})
            print(f"  cache {cache_mb} MB: {row['items_per_s']} items/s, hit ratio {row['hit_ratio']}")
    baseline = np.mean([r["items_per_s"] for r in rows if r["prefix_cache_mb"] == 0])
    for row in rows:
        row["speedup_vs_off"] = round(row["items_per_s"] / baseline, 2)
    postings = len({j for c in evals.candidates for j in c})
    return described(model, len(evals.queries), rows, distinct_postings=postings)


def print_table(result: dict) -> None:
    columns = ("prefix cache", "items/s", "vs off", "P50 ms", "P99 ms", "hit ratio", "MB used", "NDCG@10")
    cells = []
    for r in result["rows"]:
        hits = "-" if r["hit_ratio"] is None else f"{r['hit_ratio']:.2f}"
        used = "-" if r["cache_mb_used"] is None else f"{r['cache_mb_used']:.0f}"
        speed = (f"{r['items_per_s']:.0f}", f"{r['speedup_vs_off']:.2f}x")
        latency = (f"{r['call_p50_ms']:.0f}", f"{r['call_p99_ms']:.0f}")
        cells.append((label(r).replace("\n", ", "), *speed, *latency, hits, used, f"{r['ndcg@10']:.3f}"))
    title = f"serving the default model: {result['queries']} test queries x top 50, one per call"
    print_rows(title, columns, cells)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "serving.json", QUICK_QUERIES_HELP, model=True, onet=True)
    args = parse(parser, argv)
    finish(run(args.model, args.onet_dir, args.queries), args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
