"""Context compression: a posting becomes a short context, stored in Redis with its token ids.

    compress(posting, encode=None, budget_tokens=64) -> str

Takes the scoring model's tokenizer as an `encode` function, never imports `slm`.
"""

from compressor.budget import Encode
from compressor.extractive import DEFAULT_BUDGET_TOKENS, Compressed, ExtractiveCompressor
from compressor.store import Context, ContextEntry, ContextStore, EventOrder, Fetched, content_hash
from schemas import JobPosting

_DEFAULT = ExtractiveCompressor()


def compress(posting: JobPosting, encode: Encode | None = None, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
    """The default (extractive) context of one posting."""
    compressor = _DEFAULT if budget_tokens == DEFAULT_BUDGET_TOKENS else ExtractiveCompressor(budget_tokens)
    return compressor.compress(posting, encode)


__all__ = [
    "Compressed",
    "Context",
    "ContextEntry",
    "EventOrder",
    "ContextStore",
    "DEFAULT_BUDGET_TOKENS",
    "Encode",
    "ExtractiveCompressor",
    "Fetched",
    "compress",
    "content_hash",
]
