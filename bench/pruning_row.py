"""One row of `bench.pruning`: a model directory measured in a process of its own, as a worker would load it.

`measure(model_dir, onet_dir, queries, quality=True) -> dict`, in this order:
1. the directory's parameters counted from its safetensors (total, and non-embedding: less the token
   embeddings and an untied output embedding);
2. served items/s and per-call P99 as the worker serves, with its default 1,024 MB prefix cache,
   cold, one query per call, on the first `SERVED_QUERIES` of the test sample;
3. compute items/s with no cache on its first `SPEED_QUERIES` queries, best of `SPEED_REPEATS`;
4. the process's peak RSS (VmHWM) so far: the model, the worker's prefix cache and the working set;
5. with `quality`, NDCG@10 on a seeded sample of `queries` O*NET test and unseen queries (None: the
   whole splits), BM25's top 50 each (`slm.eval.evaluate.first_stage`), scored through `slm.Scorer`
   one query per call with a prefix cache that holds every posting listed (`QUALITY_CACHE_MB`), so
   each posting is prefilled once: the unpruned default's whole row took 21 min on 2 cores, ~29 with
   the worker's cache on both splits (the queries' own tokens, not the postings', are most of what
   is left). It comes after step 4, so that cache is not counted in the RSS.
`run_row(...)` runs `measure` in a child (`python -m bench.pruning_row`), so no row inherits another's
memory, and returns its JSON. Ignores how the directory was made (`bench.pruning`).
"""

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import safe_open

from bench.machine import peak_rss_mb
from bench.runner import child_json
from bench.sample import SEED, first
from bench.serving import serve
from slm.data import Bm25, ContextsByJob, compressed_contexts, load_onet, model_budget_tokens, split_queries, subsample
from slm.eval.evaluate import EvalSet, first_stage
from slm.eval.metrics import CUTOFF
from slm.scorer import Scorer
from slm.tokens import TextEncoder

SPLITS = ("test", "unseen")
CACHE_MB = 1024  # the worker's default (RANKSTREAM_PREFIX_CACHE_MB)
# Every O*NET posting's prefix fits with room to spare (~1.8 GB for Gemma 3 270M, whose cache entries
# are the largest of the bases here): no posting is prefilled twice in the quality pass.
QUALITY_CACHE_MB = 4096
# 100 test queries x 50 postings: ~5,000 items, ~2 min on 2 cores, long enough for the cache's hit
# ratio to climb past its cold start.
SERVED_QUERIES = 100
# 5 queries x 50 postings, no cache: ~250 prefixes and items, ~10 s for the unpruned model; best of 3
# drops a pass slowed by the machine.
SPEED_QUERIES = 5
SPEED_REPEATS = 3
# Tensor names of the token embeddings and the output embedding (HF decoders: Llama, Qwen3, Gemma 3).
EMBEDDINGS = ("embed_tokens", "lm_head")


def sizes(model_dir: Path) -> dict:
    total = embedding = 0
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(file, "pt") as tensors:
            for name in tensors.keys():  # noqa: SIM118 (safe_open is not a mapping)
                numel = math.prod(tensors.get_slice(name).get_shape())
                total += numel
                embedding += numel if any(e in name for e in EMBEDDINGS) else 0
    return {"parameters_m": round(total / 1e6, 2), "non_embedding_parameters_m": round((total - embedding) / 1e6, 2)}


def served_figures(worker: Scorer, test: EvalSet, contexts: ContextsByJob) -> dict:
    served = first(test, SERVED_QUERIES)
    figures = serve(worker, CACHE_MB, served, contexts)[0]
    return {
        "served_queries": len(served.queries),
        "served_items_per_s": figures["items_per_s"],
        "call_p99_ms": figures["call_p99_ms"],
    }


def measure(model_dir: Path, onet_dir: Path, queries: int | None, quality: bool = True) -> dict:
    onet = load_onet(onet_dir)
    bm25 = Bm25(onet.postings)
    worker = Scorer.load(model_dir, prefix_cache_mb=CACHE_MB)
    encode = TextEncoder(worker.tokenizer).encode
    samples = {s: first_stage(onet, bm25, subsample(split_queries(onet)[s], queries, SEED)) for s in SPLITS}
    listed = {job for evals in samples.values() for candidates in evals.candidates for job in candidates}
    # Only the postings the samples list: a few queries' worth in a quick run, not all of O*NET's.
    postings = [p for p in onet.postings if p.job_id in listed]
    contexts = compressed_contexts(postings, encode, model_budget_tokens(model_dir))
    row = sizes(model_dir) | (served_figures(worker, samples["test"], contexts) if quality else {})
    speed = Scorer.load(model_dir, prefix_cache_mb=0)
    head = first(samples["test"], SPEED_QUERIES)
    row["items_per_s"] = max(serve(speed, 0, head, contexts)[0]["items_per_s"] for _ in range(SPEED_REPEATS))
    row["rss_mb"] = round(peak_rss_mb(), 1)
    del worker, speed
    if quality:
        scorer = Scorer.load(model_dir, prefix_cache_mb=QUALITY_CACHE_MB)
        for split, evals in samples.items():
            row[f"ndcg@{CUTOFF}_{split}"] = serve(scorer, QUALITY_CACHE_MB, evals, contexts)[0][f"ndcg@{CUTOFF}"]
            row[f"queries_{split}"] = len(evals.queries)
    return row


def run_row(
    model_dir: Path, onet_dir: Path, queries: int | None, threads: int | None, speed_only: bool = False
) -> dict:
    args = ["--model", str(model_dir), "--onet-dir", str(onet_dir)]
    args += ["--threads", str(threads or torch.get_num_threads())]
    args += [] if queries is None else ["--queries", str(queries)]
    return child_json("bench.pruning_row", args + (["--speed-only"] if speed_only else []))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="One row of bench.pruning (a child process).")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--onet-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=None, help="per split; the whole splits when not given")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--speed-only", action="store_true", help="items/s and RSS, no NDCG@10")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps(measure(args.model, args.onet_dir, args.queries, quality=not args.speed_only)))


if __name__ == "__main__":
    main()
