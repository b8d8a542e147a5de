"""The one scorer API, used by the worker, the evaluation and the benchmarks alike.

    Scorer.load(path, device="auto").score(query, items) -> list[float]   # each in [0, 1]

`score_encoded` is the serving path: contexts arrive as token ids cached by the compressor, so a
posting is never re-tokenized per query. Queries are tokenized in one batched call.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slm.engine import ScoreRequest, ScoringEngine
from slm.load import Device, DType, LoadedModel, load_model
from slm.prompt import PromptPieces, build_pieces

# Items longer than this are cut: a bounded row keeps one request from starving the batch.
MAX_ITEM_TOKENS = 1024


@dataclass(frozen=True)
class EncodedQuery:
    """A query and its candidates' context token ids (as stored by the compressor)."""

    text: str
    contexts: Sequence[Sequence[int]]


class Scorer:
    def __init__(self, loaded: LoadedModel, token_budget: int = 4096) -> None:
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.name = loaded.name
        self.pieces: PromptPieces = build_pieces(loaded.tokenizer)
        self.engine = ScoringEngine(loaded.model, self.pieces.yes_id, self.pieces.no_id, token_budget)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: Device = "auto",
        dtype: DType = "auto",
        threads: int | None = None,
        token_budget: int = 4096,
    ) -> "Scorer":
        return cls(load_model(path, device, dtype, threads), token_budget)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts, in one batched call of the fast tokenizer, no special tokens."""
        if not texts:
            return []
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def score(self, query: str, items: Sequence[str]) -> list[float]:
        """P(relevant) of each item for the query; higher is more relevant."""
        return self.score_encoded([EncodedQuery(query, self.encode(items))])[0]

    def score_encoded(self, queries: Sequence[EncodedQuery]) -> list[list[float]]:
        """Score many queries at once; contexts are token ids, reused as they are."""
        query_ids = self.encode([q.text for q in queries])
        requests = [
            ScoreRequest(
                prefix=self.pieces.prefix(ids),
                items=[self.pieces.item(list(ctx[:MAX_ITEM_TOKENS])) for ctx in q.contexts],
            )
            for q, ids in zip(queries, query_ids, strict=True)
        ]
        return [scores.tolist() for scores in self.engine.score(requests)]
