"""`python -m bench.compression [--quick]`: is context compression short, faithful and fast?

Measures, on real data read from `--data` and `--onet-dir` (default ../shared/data and its onet/):
- token reduction on the 665 LinkedIn postings: full text tokens / context tokens, both compressed and
  counted with the default model's tokenizer (Gemma 3's, as the worker budgets them; target: median ≥ 8x);
- skill recall on SkillSpan's 263 postings: extractive and abstractive vs keeping the first N tokens
  at the same budget (target: extractive ≥ 2x that head baseline);
- ranking kept: NDCG@10 of the base model (zero-shot) on the benchmarks' ranking sample
  (`bench.sample`: O*NET test-split titles, BM25's top 50 postings each, graded as the evaluation
  grades them), reading full postings vs each kind of context, with the same scorer;
- speed: extractive postings per CPU-second (single-threaded; target ≥ 500), abstractive postings/s,
  and a 100-candidate `get_many` round trip on a redis-server started for the run.
Prints a table; writes bench/results/compression.json and compression.png with the data's attribution.
`--quick` (a few minutes) samples the slow parts (abstractive, ranking). Run heavy: `flock /work/cpu.lock`.
"""

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.compression_data import ATTRIBUTION, SkillPosting, linkedin_postings, skillspan_postings
from bench.compression_report import print_table, targets, write_plot
from bench.compression_runs import (
    compression_speed,
    random_ndcg,
    ranking_ndcg,
    redis_round_trip,
    skill_recall,
    token_reduction,
)
from bench.runner import bench_parser, finish, parse
from bench.sample import SEED, SPLIT, first, ranking_sample
from compressor import DEFAULT_BUDGET_TOKENS, Encode, ExtractiveCompressor
from compressor.abstractive import SUMMARY_MAX_NEW_TOKENS, AbstractiveCompressor
from compressor.budget import fit
from compressor.preview import full_text
from schemas import JobPosting
from slm.data import FIRST_STAGE_K
from slm.generate import load_generator
from slm.scorer import Scorer
from slm.tokens import TextEncoder
from slm.weights.bases import TRAINING_BASE, fetch_base

# The paper's budgets bracket ours: 64 meets the 8x target, 96 is the worker's default setting.
BUDGETS = (64, 96)
# Generation on CPU is batch-bound: 16 rows keep 2 cores busy without padding waste.
GENERATION_BATCH = 16


@dataclass(frozen=True)
class Sizes:
    """How much of each slow part runs (generation: ~2 postings/s on 2 CPU cores); None means all."""

    abstractive_linkedin: int
    abstractive_skillspan: int | None
    ranking_queries: int
    abstractive_ranking_queries: int


FULL = Sizes(abstractive_linkedin=64, abstractive_skillspan=None, ranking_queries=30, abstractive_ranking_queries=10)
QUICK = Sizes(abstractive_linkedin=8, abstractive_skillspan=8, ranking_queries=4, abstractive_ranking_queries=1)


def _lengths(encode: Encode, texts: Sequence[str]) -> list[int]:
    return [len(ids) for ids in encode(list(texts))]


def head_baseline(postings: Sequence[JobPosting], budget: int, encode: Encode) -> list[str]:
    """The naive context: the posting's first `budget` tokens (cut at a word)."""
    return [text for text, _ in fit([full_text(p) for p in postings], budget, encode)]


def reduction_section(
    linkedin: list[JobPosting], abstractive: AbstractiveCompressor, n_abstractive: int, encode: Encode
) -> dict:
    full = _lengths(encode, [full_text(p) for p in linkedin])
    contexts = {b: ExtractiveCompressor(b).compress_many(linkedin, encode) for b in BUDGETS}
    section = {f"extractive@{b}": token_reduction(full, _lengths(encode, texts)) for b, texts in contexts.items()}
    sample = abstractive.compress_many_encoded(linkedin[:n_abstractive], encode)
    section[f"abstractive@{abstractive.budget_tokens}"] = token_reduction(
        full[:n_abstractive], [len(c.token_ids) for c in sample]
    )
    return section


def recall_section(
    items: list[SkillPosting], abstractive: AbstractiveCompressor, n_abstractive: int | None, encode: Encode
) -> dict:
    postings = [i.posting for i in items]
    budget = abstractive.budget_tokens
    sample = items[:n_abstractive]
    start = time.perf_counter()
    summaries = abstractive.compress_many_encoded([i.posting for i in sample], encode)
    elapsed = time.perf_counter() - start
    head_sample = head_baseline([i.posting for i in sample], budget, encode)
    return {
        "postings": len(items),
        "spans": sum(len(i.spans) for i in items),
        "head": skill_recall(items, head_baseline(postings, budget, encode)),
        "extractive": skill_recall(items, ExtractiveCompressor(budget).compress_many(postings, encode)),
        "abstractive": skill_recall(sample, [s.text for s in summaries]),
        "head_on_abstractive_sample": skill_recall(sample, head_sample),
        "abstractive_postings": len(sample),
        "abstractive_fallback_share": sum(s.compressor != abstractive.id for s in summaries) / max(len(sample), 1),
        "abstractive_postings_per_second": len(sample) / elapsed,
    }


def ranking_section(
    onet_dir: Path, scorer: Scorer, abstractive: AbstractiveCompressor, sizes: Sizes, encode: Encode, seed: int
) -> dict:
    evals, postings = ranking_sample(onet_dir, sizes.ranking_queries, seed)
    budget = abstractive.budget_tokens
    pick = list(postings.values())
    contexts = {
        "full": [full_text(p) for p in pick],
        "head": head_baseline(pick, budget, encode),
        "extractive": ExtractiveCompressor(budget).compress_many(pick, encode),
    }
    ndcgs = {
        kind: ranking_ndcg(scorer, evals, dict(zip(postings, texts, strict=True))) for kind, texts in contexts.items()
    }
    few = first(evals, sizes.abstractive_ranking_queries)
    few_used = sorted({c for cs in few.candidates for c in cs})
    summaries = abstractive.compress_many([postings[c] for c in few_used], encode)
    abstractive_ndcgs = ranking_ndcg(scorer, few, dict(zip(few_used, summaries, strict=True)))
    section = {kind: _mean(values) for kind, values in ndcgs.items()}
    section.update(
        abstractive_subset=_mean(abstractive_ndcgs),
        full_subset=_mean(ndcgs["full"][: len(few.queries)]),
        random=random_ndcg(evals),
        queries=len(evals.queries),
        candidates_per_query=FIRST_STAGE_K,
        subset_queries=len(few.queries),
        mean_full_tokens=sum(_lengths(encode, contexts["full"])) / max(len(pick), 1),
        split=SPLIT,
    )
    return section


def _mean(values: Sequence[float]) -> float:
    return sum(values) / max(len(values), 1)


def speed_section(linkedin: list[JobPosting], encode: Encode, recall: dict) -> dict:
    extractive = ExtractiveCompressor()
    return {
        "extractive": compression_speed(lambda ps: extractive.compress_many_encoded(ps, encode), linkedin),
        "tokenize_full_text": compression_speed(lambda ps: encode([full_text(p) for p in ps]), linkedin),
        "abstractive_postings_per_second": recall["abstractive_postings_per_second"],
        "redis_get_many": redis_round_trip(),
    }


def run(data: Path, onet_dir: Path, sizes: Sizes, budget: int, seed: int, home: Path) -> dict:
    base = fetch_base(home)
    encode = TextEncoder.load(base).encode
    serving = TextEncoder.load(fetch_base(home, TRAINING_BASE))  # the default model's own tokenizer
    generate = load_generator(base, batch_size=GENERATION_BATCH, max_new_tokens=SUMMARY_MAX_NEW_TOKENS)
    abstractive = AbstractiveCompressor(generate, budget, timeout_s=3600, model_name=generate.name)
    linkedin = linkedin_postings(data)
    seconds: dict[str, float] = {}
    results = {
        "token_reduction": _timed(
            seconds, reduction_section, linkedin, abstractive, sizes.abstractive_linkedin, serving.encode
        ),
        "skill_recall": _timed(
            seconds, recall_section, skillspan_postings(data), abstractive, sizes.abstractive_skillspan, encode
        ),
        "ranking": _timed(seconds, ranking_section, onet_dir, Scorer.load(base), abstractive, sizes, encode, seed),
    }
    results["speed"] = _timed(seconds, speed_section, linkedin, encode, results["skill_recall"])
    config = {
        "budget_tokens": budget,
        "sizes": sizes.__dict__,
        "seed": seed,
        "model": generate.name,
        "reduction_tokenizer": TRAINING_BASE.name,
        "extractive": ExtractiveCompressor(budget).id,
        "abstractive": abstractive.id,
        "seconds": seconds,
        "load_average_at_end": os.getloadavg(),  # other jobs on the machine slow the timings
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
    }
    return {"config": config, **results, "attribution": ATTRIBUTION}


def _timed(seconds: dict[str, float], section: Callable[..., dict], *args: object) -> dict:
    start = time.perf_counter()
    result = section(*args)
    seconds[section.__name__.removesuffix("_section")] = round(time.perf_counter() - start, 1)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "compression.json", "sample the slow parts", onet=True, data=True)
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_TOKENS, help="tokens per context")
    parser.add_argument("--seed", type=int, default=SEED, help="of the ranking sample")
    args = parse(parser, argv)
    start = time.perf_counter()
    results = run(args.data, args.onet_dir, QUICK if args.quick else FULL, args.budget, args.seed, args.home)
    results["config"].update(quick=args.quick, total_seconds=round(time.perf_counter() - start, 1))
    results["targets"] = targets(results)
    finish(results, args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
