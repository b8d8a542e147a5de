"""What an evaluation returns and writes: typed rows and result, read and written as the JSON it always was.

Contract: `EvalResult` (a split's queries, its first stage, one `EvalRow` per system) validates the
JSON `slm.eval.evaluate` writes (bench/results/model-eval-*.json) and `dump()`s to the same keys:
metric fields go by their names in the file ("ndcg@10"), and a row carries only the fields it was
given (the BM25 row has no model_dir; only the blended row has a first_stage_weight).
Ignores: how rows are computed (`slm.eval.evaluate`) and shown (`slm.eval.report`).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from slm.data.retrieval import FIRST_STAGE_K
from slm.data.splits import Split
from slm.eval.metrics import CUTOFF

ContextKind = Literal["compressed", "full"]
NDCG, MRR, RECALL = f"ndcg@{CUTOFF}", f"mrr@{CUTOFF}", f"recall@{CUTOFF}"
SUMMARY_DIGITS = 4  # a model manifest's metrics are rounded to this many places


class ResultRecord(BaseModel):
    model_config = ConfigDict(frozen=True, validate_by_name=True, serialize_by_alias=True)

    def dump(self) -> dict[str, Any]:
        """The JSON form: the file's key names, only the fields that were given."""
        return self.model_dump(mode="json", exclude_unset=True)


class EvalRow(ResultRecord):
    """One system on one context kind: its mean metrics over the split's sampled queries."""

    system: str
    context: ContextKind | None  # None: BM25, which reads no contexts
    ndcg: float = Field(alias=NDCG)
    mrr: float = Field(alias=MRR)
    recall: float = Field(alias=RECALL)
    seconds: float | None  # scoring time; None where nothing was scored (BM25, the blend)
    model_dir: str | None = None
    context_budget_tokens: int | None = None
    first_stage_weight: float | None = None  # set on the model blended with BM25 only

    @property
    def blended(self) -> bool:
        return self.first_stage_weight is not None

    def summary(self) -> dict[str, float]:
        """The metrics (and a blend's weight), rounded: what a model's manifest records."""
        kept = {"ndcg", "mrr", "recall", "first_stage_weight"}
        return {k: round(v, SUMMARY_DIGITS) for k, v in self.model_dump(include=kept, exclude_none=True).items()}


class FirstStage(ResultRecord):
    retriever: str
    k: int
    recall: float = Field(alias=f"recall@{FIRST_STAGE_K}")
    recall_whole_split: float = Field(alias=f"recall@{FIRST_STAGE_K}_whole_split")
    bm25_whole_split: dict[str, float]  # BM25's metrics over every query of the split


class EvalResult(ResultRecord):
    split: Split
    queries: int  # sampled
    queries_in_split: int
    seed: int
    first_stage: FirstStage
    compressor: str
    rows: list[EvalRow]  # BM25 first, then each model and context kind
    attribution: str
