"""The one scorer API, used by the worker, the evaluation and the benchmarks alike.

    Scorer.load(path, device="auto").score(query, items) -> list[float]   # each in [0, 1]

`score_encoded` is the serving path: contexts arrive as token ids cached by the compressor, so a
posting is never re-tokenized per query. Queries are tokenized in one batched call. All queries of
one call are packed together under the engine's token budget. The prompt style (and so the label
tokens) is the one the model's manifest names (`slm.prompt`): chat for a model without one.

Choices (keyword arguments of `load`): `mode` "multi-item" (default; one prefix, many items per
row) or "pairwise"; `attention` "blocks" (default) or "mask" (dense 4D mask, the reference);
`compile` fuses the elementwise layers with torch.compile (needs a C++ compiler; ~15 s first
batch); `backend` "torch" (default) or "vllm" (needs vllm and a GPU; see `slm.vllm_backend`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from transformers import PreTrainedTokenizerBase

from slm.batch import ScoreRequest
from slm.engine import DEFAULT_TOKEN_BUDGET, Attention, Mode, ScoringEngine
from slm.load import Device, DType, load_model, load_tokenizer, model_name, read_manifest
from slm.prompt import PromptPieces, build_pieces, manifest_pieces

# Items longer than this are cut: a bounded row keeps one request from starving the batch.
MAX_ITEM_TOKENS = 1024
Backend = Literal["torch", "vllm"]


@dataclass(frozen=True)
class EncodedQuery:
    """A query and its candidates' context token ids (as stored by the compressor)."""

    text: str
    contexts: Sequence[Sequence[int]]


class Engine(Protocol):
    def score(self, requests: Sequence[ScoreRequest]) -> list[np.ndarray]: ...


class Scorer:
    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, engine: Engine, name: str, pieces: PromptPieces | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.engine = engine
        self.name = name
        self.pieces: PromptPieces = pieces or build_pieces(tokenizer)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: Device = "auto",
        dtype: DType = "auto",
        threads: int | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        *,
        mode: Mode = "multi-item",
        attention: Attention = "blocks",
        compile: bool = False,
        cuda_graphs: bool = False,
        backend: Backend = "torch",
        warmup: bool = True,
    ) -> "Scorer":
        """A scorer over a local HF causal-LM directory (safetensors only, never remote code)."""
        if backend == "vllm":
            return cls._load_vllm(Path(path), dtype)
        loaded = load_model(path, device, dtype, threads)
        pieces = manifest_pieces(loaded.tokenizer, loaded.manifest)
        engine = ScoringEngine(
            loaded.model, pieces.yes_id, pieces.no_id, token_budget, mode, attention, compile, cuda_graphs
        )
        if warmup:
            engine.warmup()
        return cls(loaded.tokenizer, engine, loaded.name, pieces)

    @classmethod
    def _load_vllm(cls, path: Path, dtype: DType) -> "Scorer":
        from slm.vllm_backend import VllmEngine  # import-guarded: vllm is optional

        tokenizer = load_tokenizer(path)
        pieces = manifest_pieces(tokenizer, read_manifest(path))
        labels = tokenizer.convert_ids_to_tokens([pieces.no_id, pieces.yes_id])
        return cls(tokenizer, VllmEngine(path, labels, dtype), model_name(path), pieces)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts, in one batched call of the fast tokenizer, no special tokens."""
        if not texts:
            return []
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def score(self, query: str, items: Sequence[str]) -> list[float]:
        """P(relevant) of each item for the query; higher is more relevant."""
        return self.score_encoded([EncodedQuery(query, self.encode(items))])[0]

    def requests(self, queries: Sequence[EncodedQuery]) -> list[ScoreRequest]:
        """Prompt pieces around the queries (tokenized in one call) and their cached context ids."""
        query_ids = self.encode([q.text for q in queries])
        return [
            ScoreRequest(
                prefix=self.pieces.prefix(ids),
                items=[self.pieces.item(list(ctx[:MAX_ITEM_TOKENS])) for ctx in q.contexts],
            )
            for q, ids in zip(queries, query_ids, strict=True)
        ]

    def score_encoded(self, queries: Sequence[EncodedQuery]) -> list[list[float]]:
        """Score many queries at once; contexts are token ids, reused as they are."""
        return [scores.tolist() for scores in self.engine.score(self.requests(queries))]
