"""Evaluation: rerank the first stage's candidates for a split's queries with models, and measure.

Contract: `evaluate(model_dir, split, onet_dir, ...) -> EvalResult` (`slm.eval.results`; given `out`,
the same as JSON).
For a deterministic subsample of the split's queries (`max_queries`, seeded; None: the default
size, 0: the whole split), BM25 retrieves the top 50 postings; every system ranks exactly those:
- `bm25`: the first stage's own order;
- each model of `compare`, then `model_dir`, through the one scorer API (`Scorer.score_encoded`), on
  each context kind asked for: `compressed` (the worker's compressor and budget) or `full` (the whole
  posting, the no-compression reference);
- `model_dir` blended with BM25's scores (`slm.blend`, `first_stage_weight`), from the same scores, as
  the worker ranks a query that carries `candidate_scores`.
Each row carries NDCG@10, MRR@10 and Recall@10 (`slm.eval.metrics`) and the seconds spent scoring.
The result also records the first stage's recall@50 and BM25's metrics over the whole split, so the
subsample's representativeness can be checked, plus the O*NET attribution.

Ties in model scores keep BM25's order. A query whose first stage returns nothing counts 0 for
every system. Ignores: the context store and Kafka (contexts are computed here, in memory).
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compressor import ExtractiveCompressor
from slm.blend import FIRST_STAGE_WEIGHT, blend
from slm.data.contexts import ContextsByJob, compressed_contexts, full_contexts, model_budget_tokens
from slm.data.onet import ATTRIBUTION, Onet, Query, load_onet
from slm.data.retrieval import FIRST_STAGE_K, Bm25
from slm.data.splits import Split, split_queries, subsample
from slm.eval.metrics import CUTOFF, mean_metrics, recall
from slm.eval.results import ContextKind, EvalResult, EvalRow, FirstStage
from slm.load import Device, DType
from slm.progress import tracked
from slm.scorer import EncodedQuery, Scorer
from slm.tokens import TextEncoder

# 30 queries x 50 candidates x ~96-token contexts is ~1,500 items (~180k tokens) per model: at the
# body's ~1,300 tokens/s on 2 CPU cores, the base model and one more take a few minutes together.
# The NDCG standard error at this size is ~0.05; pass max_queries=0 for the whole split (the CLI's
# --max-queries help repeats this number).
DEFAULT_MAX_QUERIES = 30
# Queries handed to the scorer per call: ~400 items, enough to fill its token-budget batches.
QUERIES_PER_CALL = 8


@dataclass(frozen=True)
class EvalSet:
    """Queries, their first-stage candidates (BM25 order) and their judgments, aligned."""

    queries: tuple[Query, ...]
    candidates: tuple[tuple[str, ...], ...]
    judgments: tuple[dict[str, int], ...]
    first_scores: tuple[tuple[float, ...], ...]  # BM25's score of each candidate

    def first_stage_recall(self) -> float:
        pairs = zip(self.candidates, self.judgments, strict=True)
        return sum(recall(c, g, FIRST_STAGE_K) for c, g in pairs) / max(len(self.queries), 1)


def first_stage(onet: Onet, bm25: Bm25, queries: Sequence[Query]) -> EvalSet:
    hits = bm25.search([q.text for q in queries], FIRST_STAGE_K)
    return EvalSet(
        tuple(queries),
        tuple(tuple(h.job_id for h in hs) for hs in hits),
        tuple(onet.grades(q) for q in queries),
        tuple(tuple(h.score for h in hs) for hs in hits),
    )


def model_scores(scorer: Scorer, evals: EvalSet, contexts: ContextsByJob, label: str) -> list[list[float]]:
    """Each query's candidates' scores, in candidate order ([] for a query without candidates)."""
    todo = [(q, c) for q, c in zip(evals.queries, evals.candidates, strict=True) if c]
    scores: dict[str, list[float]] = {}
    chunks = [todo[i : i + QUERIES_PER_CALL] for i in range(0, len(todo), QUERIES_PER_CALL)]
    for chunk in tracked(chunks, f"scoring {label}"):
        encoded = [EncodedQuery(q.text, [contexts[j] for j in c]) for q, c in chunk]
        for (q, _), s in zip(chunk, scorer.score_encoded(encoded), strict=True):
            scores[q.query_id] = s
    return [scores.get(q.query_id, []) for q in evals.queries]


def ranked(evals: EvalSet, scores: Sequence[Sequence[float]]) -> list[tuple[str, ...]]:
    """Each query's candidates by descending score (stable: ties keep BM25's order)."""
    return [
        tuple(c[i] for i in sorted(range(len(c)), key=lambda i: -s[i]))
        for c, s in zip(evals.candidates, scores, strict=True)
    ]


def blended(evals: EvalSet, scores: Sequence[Sequence[float]], weight: float) -> list[list[float]]:
    return [blend(s, f, weight).tolist() for s, f in zip(scores, evals.first_scores, strict=True)]


def _contexts(kind: ContextKind, evals: EvalSet, onet: Onet, scorer: Scorer, budget_tokens: int) -> ContextsByJob:
    postings = [onet.by_id[j] for j in sorted({j for c in evals.candidates for j in c})]
    encode = TextEncoder(scorer.tokenizer).encode
    if kind == "full":
        return full_contexts(postings, encode)
    return compressed_contexts(postings, encode, budget_tokens)


def _row(
    system: str,
    context: ContextKind | None,
    rankings: Sequence[Sequence[str]],
    evals: EvalSet,
    seconds: float | None,
    **about: str | int | float,
) -> EvalRow:
    metrics = mean_metrics(rankings, evals.judgments, CUTOFF)
    timed = None if seconds is None else round(seconds, 2)
    return EvalRow.model_validate({"system": system, "context": context, **metrics, "seconds": timed, **about})


def _unique(paths: Sequence[Path]) -> list[Path]:
    return list({p.resolve(): p for p in paths}.values())


def evaluate(
    model_dir: Path,
    split: Split,
    onet_dir: Path,
    *,
    compare: Sequence[Path] = (),
    contexts: Sequence[ContextKind] = ("compressed",),
    max_queries: int | None = None,
    seed: int = 0,
    budget_tokens: int | None = None,
    device: Device = "auto",
    dtype: DType = "auto",
    threads: int | None = None,
    first_stage_weight: float = FIRST_STAGE_WEIGHT,
    prefix_cache_mb: int = 0,
    out: Path | None = None,
) -> EvalResult:
    onet = load_onet(onet_dir)
    bm25 = Bm25(onet.postings)
    whole = first_stage(onet, bm25, split_queries(onet)[split])
    limit = DEFAULT_MAX_QUERIES if max_queries is None else max_queries or None
    evals = first_stage(onet, bm25, subsample(whole.queries, limit, seed))
    rows = [_row("bm25", None, evals.candidates, evals, None)]
    for path in _unique([*compare, model_dir]):
        scorer = Scorer.load(path, device=device, dtype=dtype, threads=threads, prefix_cache_mb=prefix_cache_mb)
        budget = model_budget_tokens(path, budget_tokens)
        about = {"model_dir": str(path), "context_budget_tokens": budget}
        for kind in contexts:
            ctx = _contexts(kind, evals, onet, scorer, budget)
            start = time.perf_counter()
            scores = model_scores(scorer, evals, ctx, f"{scorer.name} [{kind}]")
            seconds = time.perf_counter() - start
            rows.append(_row(scorer.name, kind, ranked(evals, scores), evals, seconds, **about))
            if path == model_dir and first_stage_weight > 0:
                mixed = ranked(evals, blended(evals, scores, first_stage_weight))
                name = f"{scorer.name} + bm25 (weight {first_stage_weight:g})"
                rows.append(_row(name, kind, mixed, evals, None, **about, first_stage_weight=first_stage_weight))
    result = EvalResult(
        split=split,
        queries=len(evals.queries),
        queries_in_split=len(whole.queries),
        seed=seed,
        first_stage=_first_stage(bm25, evals, whole),
        compressor=ExtractiveCompressor().id,
        rows=rows,
        attribution=ATTRIBUTION,
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.dump(), indent=2) + "\n")
    return result


def _first_stage(bm25: Bm25, evals: EvalSet, whole: EvalSet) -> FirstStage:
    return FirstStage(
        retriever=bm25.name,
        k=FIRST_STAGE_K,
        recall=evals.first_stage_recall(),
        recall_whole_split=whole.first_stage_recall(),
        bm25_whole_split=mean_metrics(whole.candidates, whole.judgments, CUTOFF),
    )
