# ruff: noqa: E402  (OMP_WAIT_POLICY must be set before torch is imported)
"""`python -m bench.compression [--quick]`: is context compression short, faithful and fast?

Measures, on real data read from `--data` (default ../shared/data):
- token reduction on the 665 LinkedIn postings: full text tokens / context tokens (target: median ≥ 8x);
- skill recall on SkillSpan's 263 postings: extractive and abstractive vs keeping the first N tokens
  at the same budget (target: extractive ≥ 2x that head baseline);
- ranking kept: NDCG@10 of the base model (zero-shot) over O*NET reported titles, reading full
  postings vs each kind of context, with the same scorer;
- speed: extractive postings per CPU-second (single-threaded; target ≥ 500), abstractive postings/s,
  and a 100-candidate `get_many` round trip on a redis-server started for the run.
Prints a table; writes bench/results/compression.json and compression.png with the data's attribution.
`--quick` (< 2 min) samples the slow parts (abstractive, ranking). Run heavy: `flock /work/cpu.lock`.
"""

import os

# Idle OpenMP threads sleep instead of spinning: generation runs in its own thread beside ours, and
# spinning workers on 2 shared cores made early generate calls 10-50x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # "one core" means one tokenizer thread too
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.compression_data import (
    ATTRIBUTION,
    SkillPosting,
    linkedin_postings,
    onet_ranking_sample,
    skillspan_postings,
)
from bench.compression_report import print_table, write_json, write_plot
from bench.compression_runs import (
    compression_speed,
    random_ndcg,
    ranking_ndcg,
    redis_round_trip,
    skill_recall,
    token_reduction,
)
from compressor import DEFAULT_BUDGET_TOKENS, Encode, ExtractiveCompressor
from compressor.abstractive import SUMMARY_MAX_NEW_TOKENS, AbstractiveCompressor
from compressor.budget import fit
from compressor.preview import full_text
from schemas import JobPosting
from slm.generate import load_generator
from slm.scorer import Scorer
from slm.tokens import TextEncoder
from slm.weights.bases import fetch_base

RESULTS = Path(__file__).parent / "results"
# The paper's budgets bracket ours: 64 meets the 8x target, 96 is the worker's default setting.
BUDGETS = (64, 96)
CANDIDATES_PER_QUERY = 20
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
    data: Path, scorer: Scorer, abstractive: AbstractiveCompressor, sizes: Sizes, encode: Encode, seed: int
) -> dict:
    queries, postings = onet_ranking_sample(data, sizes.ranking_queries, CANDIDATES_PER_QUERY, seed)
    used = sorted({c for q in queries for c in q.candidates})
    budget = abstractive.budget_tokens
    pick = [postings[c] for c in used]
    contexts = {
        "full": [full_text(p) for p in pick],
        "head": head_baseline(pick, budget, encode),
        "extractive": ExtractiveCompressor(budget).compress_many(pick, encode),
    }
    ndcgs = {
        kind: ranking_ndcg(scorer, queries, dict(zip(used, texts, strict=True))) for kind, texts in contexts.items()
    }
    few = queries[: sizes.abstractive_ranking_queries]
    few_used = sorted({c for q in few for c in q.candidates})
    summaries = abstractive.compress_many([postings[c] for c in few_used], encode)
    abstractive_ndcgs = ranking_ndcg(scorer, few, dict(zip(few_used, summaries, strict=True)))
    section = {kind: _mean(values) for kind, values in ndcgs.items()}
    section.update(
        abstractive_subset=_mean(abstractive_ndcgs),
        full_subset=_mean(ndcgs["full"][: len(few)]),
        random=random_ndcg(queries),
        queries=len(queries),
        candidates_per_query=CANDIDATES_PER_QUERY,
        subset_queries=len(few),
        mean_full_tokens=sum(_lengths(encode, contexts["full"])) / len(used),
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


def run(data: Path, sizes: Sizes, budget: int, seed: int, home: Path) -> dict:
    base = fetch_base(home)
    encode = TextEncoder.load(base).encode
    generate = load_generator(base, batch_size=GENERATION_BATCH, max_new_tokens=SUMMARY_MAX_NEW_TOKENS)
    abstractive = AbstractiveCompressor(generate, budget, timeout_s=3600, model_name=generate.name)
    linkedin = linkedin_postings(data)
    seconds: dict[str, float] = {}
    results = {
        "token_reduction": _timed(
            seconds, reduction_section, linkedin, abstractive, sizes.abstractive_linkedin, encode
        ),
        "skill_recall": _timed(
            seconds, recall_section, skillspan_postings(data), abstractive, sizes.abstractive_skillspan, encode
        ),
        "ranking": _timed(seconds, ranking_section, data, Scorer.load(base), abstractive, sizes, encode, seed),
    }
    results["speed"] = _timed(seconds, speed_section, linkedin, encode, results["skill_recall"])
    config = {
        "budget_tokens": budget,
        "sizes": sizes.__dict__,
        "seed": seed,
        "model": generate.name,
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sample the slow parts (< 2 minutes)")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_TOKENS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    home = Path(os.environ.get("RANKSTREAM_HOME", ".rankstream"))
    start = time.perf_counter()
    results = run(args.data, QUICK if args.quick else FULL, args.budget, args.seed, home)
    results["config"].update(quick=args.quick, total_seconds=round(time.perf_counter() - start, 1))
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(results, args.out / "compression.json")
    write_plot(results, args.out / "compression.png")


if __name__ == "__main__":
    main()
