"""The measurements behind `bench.compression`, each a function of data and a compressor's output.

    token_reduction(full_tokens, compressed_tokens)   -> median / p90 ratio
    skill_recall(items, texts)                        -> share of SkillSpan spans kept (micro-averaged)
    ranking_ndcg(scorer, evals, contexts)             -> NDCG@10 of each query, one context per posting
    random_ndcg(evals)                                -> the chance level of the same lists
    compression_speed(compress, postings)             -> postings per CPU-second and per wall-second
    redis_round_trip(n_candidates, repeats)           -> ms per pipelined `get_many` on a fresh redis-server

Ignores warm-up: every timing runs its workload once untimed first.
"""

import random
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
import redis

from bench.compression_data import SkillPosting, span_recall
from compressor import ContextEntry, ContextStore, EventOrder
from schemas import JobPosting
from slm.eval.evaluate import EvalSet, ranked
from slm.eval.metrics import CUTOFF, ndcg
from slm.scorer import Scorer

REDIS_START_TIMEOUT_S = 10.0
# Entries in the benchmark's store: a query's candidates are drawn from these.
REDIS_ENTRIES = 10_000
REDIS_CONTEXT_TOKENS = 64


def token_reduction(full_tokens: Sequence[int], compressed_tokens: Sequence[int]) -> dict[str, float]:
    ratios = np.asarray(full_tokens, dtype=float) / np.maximum(np.asarray(compressed_tokens, dtype=float), 1)
    return {
        "median_ratio": float(np.median(ratios)),
        "p90_ratio": float(np.percentile(ratios, 90)),
        "mean_full_tokens": float(np.mean(full_tokens)),
        "mean_compressed_tokens": float(np.mean(compressed_tokens)),
        "postings": len(ratios),
    }


def skill_recall(items: Sequence[SkillPosting], texts: Sequence[str]) -> float:
    """Micro-averaged over spans: a posting with 80 spans weighs 80 times one with a single span."""
    kept = sum(span_recall(item.spans, text) * len(item.spans) for item, text in zip(items, texts, strict=True))
    return kept / max(sum(len(item.spans) for item in items), 1)


def ranking_ndcg(scorer: Scorer, evals: EvalSet, contexts: dict[str, str]) -> list[float]:
    """NDCG@10 of the scorer's ranking of each query's candidates, reading `contexts` (ties keep
    BM25's order; a query without candidates scores 0, as in the evaluation)."""
    pairs = zip(evals.queries, evals.candidates, strict=True)
    scores = [scorer.score(q.text, [contexts[c] for c in cs]) if cs else [] for q, cs in pairs]
    return [ndcg(r, g, CUTOFF) for r, g in zip(ranked(evals, scores), evals.judgments, strict=True)]


def random_ndcg(evals: EvalSet, shuffles: int = 200, seed: int = 0) -> float:
    """The chance level: mean NDCG@10 of random orders of each list (no model)."""
    rng = random.Random(seed)
    total = 0.0
    for candidates, grades in zip(evals.candidates, evals.judgments, strict=True):
        for _ in range(shuffles):
            total += ndcg(rng.sample(candidates, len(candidates)), grades, CUTOFF)
    return total / max(len(evals.queries) * shuffles, 1)


def compression_speed(
    compress: Callable[[Sequence[JobPosting]], object], postings: Sequence[JobPosting], repeats: int = 3
) -> dict[str, float]:
    """Best of `repeats` runs: CPU time counts one core's work even when neighbours share it."""
    compress(postings[:10])
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        compress(postings)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"per_cpu_second": len(postings) / min(cpu), "per_second": len(postings) / min(wall)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis() -> tuple[subprocess.Popen, redis.Redis]:
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while True:
        try:
            client.ping()
            return server, client
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.05)


def redis_round_trip(n_candidates: int = 100, repeats: int = 300, seed: int = 0) -> dict[str, float]:
    """Latency of fetching a query's candidates (text and ids) in one pipelined round trip."""
    server, client = _start_redis()
    try:
        store = ContextStore(client, "extractive@bench", "tok-bench")
        now = datetime.now(UTC)
        ids = list(range(1000, 1000 + REDIS_CONTEXT_TOKENS))
        text = "x " * REDIS_CONTEXT_TOKENS
        entries = [ContextEntry(f"job-{i}", text, ids, f"h{i}", EventOrder(now)) for i in range(REDIS_ENTRIES)]
        for start in range(0, REDIS_ENTRIES, 1000):
            store.put_many(entries[start : start + 1000])
        rng = np.random.default_rng(seed)
        batches = [[f"job-{i}" for i in rng.choice(REDIS_ENTRIES, n_candidates, replace=False)] for _ in range(repeats)]
        store.get_many(batches[0])
        times = []
        for batch in batches:
            start = time.perf_counter()
            contexts = store.get_many(batch)
            times.append((time.perf_counter() - start) * 1000)
            assert all(c is not None for c in contexts)
        return {
            "candidates": n_candidates,
            "p50_ms": float(np.median(times)),
            "p99_ms": float(np.percentile(times, 99)),
        }
    finally:
        client.close()
        server.terminate()
        server.wait(REDIS_START_TIMEOUT_S)
