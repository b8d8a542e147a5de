"""What the scorer reads for each posting: token ids of its compressed context, or of its full text.

Contract: `compressed_contexts(postings, encode, budget_tokens)` runs the worker's compressor
(`compressor.ExtractiveCompressor(budget).compress_many(postings, encode)`) and tokenizes its texts
with `encode`, as the worker does before storing them; `full_contexts(postings, encode)` tokenizes
the whole posting (the "no compression" reference). Both return job_id -> token ids.

Ignores: the context store (Redis) and its keys: training and evaluation hold contexts in memory.
"""

from collections.abc import Sequence

from compressor import DEFAULT_BUDGET_TOKENS, Encode, ExtractiveCompressor
from schemas import JobPosting
from slm.data.retrieval import posting_text

Contexts = dict[str, list[int]]


def _encoded(postings: Sequence[JobPosting], texts: list[str], encode: Encode) -> Contexts:
    return {p.job_id: ids for p, ids in zip(postings, encode(texts), strict=True)}


def compressed_contexts(
    postings: Sequence[JobPosting], encode: Encode, budget_tokens: int = DEFAULT_BUDGET_TOKENS
) -> Contexts:
    texts = ExtractiveCompressor(budget_tokens).compress_many(postings, encode)
    return _encoded(postings, texts, encode)


def full_contexts(postings: Sequence[JobPosting], encode: Encode) -> Contexts:
    return _encoded(postings, [posting_text(p) for p in postings], encode)
