"""One place that turns configuration into a compressor.

    make_compressor("extractive", budget_tokens)
    make_compressor("abstractive", budget_tokens, generate=load_generator(path), timeout_s=120, model_name=...)

Both kinds share the `Compressor` protocol the postings loop uses. The abstractive kind needs the
`generate` callable (built by `slm.generate`, which this package may not import).
"""

from collections.abc import Sequence
from typing import Literal, Protocol

from compressor import abstractive, extractive
from compressor.abstractive import DEFAULT_TIMEOUT_S, AbstractiveCompressor, Generate, summarizer_version
from compressor.budget import Encode
from compressor.extractive import DEFAULT_BUDGET_TOKENS, Compressed, ExtractiveCompressor
from schemas import JobPosting

CompressorKind = Literal["extractive", "abstractive"]


class Compressor(Protocol):
    @property
    def id(self) -> str: ...  # name@version: part of the context store's key namespace

    budget_tokens: int

    def compress_many_encoded(self, postings: Sequence[JobPosting], encode: Encode) -> list[Compressed]: ...

    def compress_many(self, postings: Sequence[JobPosting], encode: Encode) -> list[str]: ...


def make_compressor(
    kind: CompressorKind,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    generate: Generate | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    model_name: str = "llm",
) -> Compressor:
    if kind == "extractive":
        return ExtractiveCompressor(budget_tokens)
    if kind == "abstractive":
        if generate is None:
            raise ValueError("the abstractive compressor needs a generate function (see slm.generate)")
        return AbstractiveCompressor(generate, budget_tokens, timeout_s, model_name)
    raise ValueError(f"unknown compressor kind {kind!r}; expected 'extractive' or 'abstractive'")


def compressor_id(kind: CompressorKind, model_name: str = "llm") -> str:
    """The name@version a compressor of this kind writes under, without building it: a queries-only
    worker reads the context store in that namespace and never compresses."""
    if kind == "extractive":
        return f"{extractive.NAME}@{extractive.VERSION}"
    return f"{abstractive.NAME}@{summarizer_version(model_name)}"
