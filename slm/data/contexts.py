"""What the scorer reads for each posting: token ids of its compressed context, or of its full text.

Contract: `compressed_contexts(postings, encode, budget_tokens)` runs the worker's compressor
(`compressor.ExtractiveCompressor(budget).compress_many(postings, encode)`) and tokenizes its texts
with `encode`, as the worker does before storing them; `full_contexts(postings, encode)` tokenizes
the whole posting (the "no compression" reference). Both return job_id -> token ids.
`model_budget_tokens(model_dir, configured)` is the budget a model's contexts are compressed at: the
configured one, else its manifest's (`slm.load.context_budget`), else the compressor's default.

Ignores: the context store (Redis) and its keys: training and evaluation hold contexts in memory.
"""

from collections.abc import Sequence
from pathlib import Path

from compressor import DEFAULT_BUDGET_TOKENS, Encode, ExtractiveCompressor
from schemas import JobPosting
from slm.data.retrieval import posting_text
from slm.load import context_budget

ContextsByJob = dict[str, list[int]]  # job_id -> the token ids of its context


def model_budget_tokens(model_dir: Path, configured: int | None = None) -> int:
    budget = context_budget(model_dir, configured)
    return DEFAULT_BUDGET_TOKENS if budget is None else budget


def _encoded(postings: Sequence[JobPosting], texts: list[str], encode: Encode) -> ContextsByJob:
    return {p.job_id: ids for p, ids in zip(postings, encode(texts), strict=True)}


def compressed_contexts(
    postings: Sequence[JobPosting], encode: Encode, budget_tokens: int = DEFAULT_BUDGET_TOKENS
) -> ContextsByJob:
    texts = ExtractiveCompressor(budget_tokens).compress_many(postings, encode)
    return _encoded(postings, texts, encode)


def full_contexts(postings: Sequence[JobPosting], encode: Encode) -> ContextsByJob:
    return _encoded(postings, [posting_text(p) for p in postings], encode)
