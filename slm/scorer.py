"""The one scorer API, used by the worker, the evaluation and the benchmarks alike.

    Scorer.load(path, device="auto").score(query, items) -> list[float]   # each in [0, 1]

`score_encoded` is the serving path: contexts arrive as token ids cached by the compressor, so a
posting is never re-tokenized per query. Queries are tokenized in one batched call. All queries of
one call are packed together under the engine's token budget. The prompt style (and so the label
tokens) is the one the model's manifest names (`slm.manifest`, `slm.prompt`): chat for a model
without one. In a query-first style each query is a request's prefix and its contexts the items; in
the job-first style each distinct context of the call is a prefix and the queries that list it are
its items.

Choices (keyword arguments of `load`, the engine's `EngineConfig`): `mode` "multi-item" (default;
one prefix, many items per row) or "pairwise"; `attention` "blocks" (default) or "mask" (dense 4D
mask, the reference); `compile` fuses the norms' and MLPs' elementwise passes with torch.compile (needs
a C++ compiler; ~7 s more at load on the default model, ~1.1x its items/s on 2 cores); `backend`
"torch" (default) or "vllm" (needs vllm and a GPU; see `slm.engine.vllm`);
`prefix_cache_mb` keeps the keys of prefixes already run (`slm.engine.prefix_cache`; 0: none): with the
job-first prompt a posting listed again by a later query is not run again.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from transformers import PreTrainedTokenizerBase

from slm.engine import DEFAULT_TOKEN_BUDGET, Attention, EngineConfig, Mode, ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.engine.prefix_cache import PrefixCache
from slm.load import Device, DType, load_model, load_tokenizer, model_name
from slm.manifest import read_manifest
from slm.prompt import MAX_QUERY_TOKENS, PromptPieces, build_pieces

# Items longer than this are cut: a bounded row keeps one request from starving the batch.
MAX_ITEM_TOKENS = 1024
ScoringBackend = Literal["torch", "vllm"]
# Each query's contexts' token ids (cut to MAX_ITEM_TOKENS), in the query's order.
QueryContexts = list[list[tuple[int, ...]]]


@dataclass(frozen=True)
class EncodedQuery:
    """A query and its candidates' context token ids (as stored by the compressor)."""

    text: str
    contexts: Sequence[Sequence[int]]


@dataclass(frozen=True)
class Prompts:
    """The engine's requests for a call, and where each query's scores land in their output.

    `index[q][k]` is the position of query q's k-th context in the requests' items laid end to end
    (request-major, the order `ScoringEngine.score` returns them in)."""

    requests: list[ScoreRequest]
    index: list[np.ndarray]

    def per_query(self, flat: Sequence[float] | np.ndarray) -> list[np.ndarray]:
        values = np.asarray(flat)
        return [values[i] for i in self.index]


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
        backend: ScoringBackend = "torch",
        prefix_cache_mb: int = 0,
        warmup: bool = True,
    ) -> "Scorer":
        """A scorer over a local HF causal-LM directory (safetensors only, never remote code)."""
        if backend == "vllm":
            return cls._load_vllm(Path(path), dtype)
        loaded = load_model(path, device, dtype, threads)
        pieces = loaded.manifest.pieces(loaded.tokenizer)
        config = EngineConfig(
            token_budget=token_budget,
            mode=mode,
            attention=attention,
            compile=compile,
            cuda_graphs=cuda_graphs,
            prefix_cache_bytes=prefix_cache_mb << 20,
        )
        engine = ScoringEngine(loaded.model, pieces.yes_id, pieces.no_id, config)
        if warmup:
            engine.warmup()
        return cls(loaded.tokenizer, engine, loaded.name, pieces)

    @classmethod
    def _load_vllm(cls, path: Path, dtype: DType) -> "Scorer":
        from slm.engine.vllm import VllmEngine  # import-guarded: vllm is optional

        tokenizer = load_tokenizer(path)
        pieces = read_manifest(path).pieces(tokenizer)
        labels = tokenizer.convert_ids_to_tokens([pieces.no_id, pieces.yes_id])
        return cls(tokenizer, VllmEngine(path, labels, dtype), model_name(path), pieces)

    @property
    def prefix_cache(self) -> PrefixCache | None:
        """The engine's prefix cache, if it keeps one."""
        return getattr(self.engine, "cache", None)

    @property
    def compiled(self) -> bool:
        """Whether the engine runs its norms and MLPs compiled (`EngineConfig.compile`)."""
        config = getattr(self.engine, "config", None)
        return bool(config is not None and config.compile)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts, in one batched call of the fast tokenizer, no special tokens."""
        if not texts:
            return []
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def score(self, query: str, items: Sequence[str]) -> list[float]:
        """P(relevant) of each item for the query; higher is more relevant."""
        return self.score_encoded([EncodedQuery(query, self.encode(items))])[0]

    def requests(self, queries: Sequence[EncodedQuery]) -> Prompts:
        """Prompt pieces around the queries (tokenized in one call) and their cached context ids."""
        query_ids = [ids[:MAX_QUERY_TOKENS] for ids in self.encode([q.text for q in queries])]
        contexts = [[tuple(ctx[:MAX_ITEM_TOKENS]) for ctx in q.contexts] for q in queries]
        if self.pieces.job_first:
            return _by_context(self.pieces, query_ids, contexts)
        return _by_query(self.pieces, query_ids, contexts)

    def score_encoded(self, queries: Sequence[EncodedQuery]) -> list[list[float]]:
        """Score many queries at once; contexts are token ids, reused as they are."""
        prompts = self.requests(queries)
        scores = self.engine.score(prompts.requests)
        flat = np.concatenate(scores) if scores else np.empty(0, dtype=np.float32)
        return [s.tolist() for s in prompts.per_query(flat)]


def _by_query(pieces: PromptPieces, query_ids: list[list[int]], contexts: QueryContexts) -> Prompts:
    """One request per query: the query is the prefix, its contexts the items."""
    pairs = zip(query_ids, contexts, strict=True)
    requests = [ScoreRequest(pieces.prefix(q), [pieces.item(list(c)) for c in cs]) for q, cs in pairs]
    ends = np.cumsum([0, *(len(cs) for cs in contexts)])
    return Prompts(requests, [np.arange(a, b) for a, b in zip(ends[:-1], ends[1:], strict=True)])


def _by_context(pieces: PromptPieces, query_ids: list[list[int]], contexts: QueryContexts) -> Prompts:
    """One request per distinct context: the context is the prefix, the queries listing it the items."""
    slot: dict[tuple[int, ...], int] = {}
    items: list[list[list[int]]] = []
    where = []  # (request, item) of each query's contexts
    for q, cs in zip(query_ids, contexts, strict=True):
        row = []
        for c in cs:
            r = slot.setdefault(c, len(slot))
            if r == len(items):
                items.append([])
            row.append((r, len(items[r])))
            items[r].append(pieces.item(q))
        where.append(row)
    starts = np.cumsum([0, *map(len, items)])
    requests = [ScoreRequest(pieces.prefix(list(c)), its) for c, its in zip(slot, items, strict=True)]
    return Prompts(requests, [np.array([starts[r] + i for r, i in row], dtype=np.int64) for row in where])
