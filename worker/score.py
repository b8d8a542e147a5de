"""Score: a batch of queries gets its contexts from Redis, one engine call, and its results published.

Each request's candidates are fetched in one pipelined round trip; candidates without a stored
context are reported as unscored ("missing_context"). All requests of a batch share one call of the
scorer, which packs them under its token budget.
"""

import time
from dataclasses import dataclass

from compressor import ContextStore
from schemas import SearchQuery
from slm import EncodedQuery, Scorer
from worker.batch import Batch
from worker.kafka import Source
from worker.publish import Publisher
from worker.rank import rank
from worker.telemetry import Metrics

# Prompt tokens around each item (head + tail) and per request (the prefix), for batch costing
# before the contexts are fetched; exact counts are not needed to bound a batch. With the job-first
# default model this over-counts (a posting met before is a cached prefix, `slm.engine.prefix_cache`), so a
# 50-candidate query goes alone; measured by `bench.serving`, calls of 1, 4, 8 or 16 queries ran
# equally fast once the cache was warm, so the estimate costs no throughput.
ITEM_OVERHEAD_TOKENS = 24
REQUEST_OVERHEAD_TOKENS = 64


@dataclass(frozen=True)
class PendingQuery:
    source: Source
    query: SearchQuery
    enqueued_at: float


class QueryScorer:
    def __init__(
        self,
        scorer: Scorer,
        store: ContextStore,
        publisher: Publisher,
        metrics: Metrics,
        context_budget_tokens: int,
        first_stage_weight: float = 0.0,
    ) -> None:
        self.scorer = scorer
        self.first_stage_weight = first_stage_weight
        self.store = store
        self.publisher = publisher
        self.metrics = metrics
        self.item_cost = context_budget_tokens + ITEM_OVERHEAD_TOKENS

    def cost(self, pending: PendingQuery) -> int:
        """Estimated tokens of a request, for the batcher's budget."""
        return REQUEST_OVERHEAD_TOKENS + self.item_cost * len(pending.query.candidate_job_ids)

    def handle(self, batch: Batch[PendingQuery]) -> None:
        started = time.monotonic()
        for pending in batch.items:
            self.metrics.queue_wait.record(started - pending.enqueued_at)
        fetched = [self.store.get_many(p.query.candidate_job_ids) for p in batch.items]
        encoded = [
            EncodedQuery(p.query.query, [c.token_ids for c in contexts if c is not None])
            for p, contexts in zip(batch.items, fetched, strict=True)
        ]
        tokens = sum(len(ids) for q in encoded for ids in q.contexts)
        scores = self.scorer.score_encoded(encoded)
        self.metrics.forward_seconds.record(time.monotonic() - started)
        self.metrics.batch_requests.record(len(batch.items))
        self.metrics.batch_tokens.record(tokens)
        for pending, contexts, request_scores in zip(batch.items, fetched, scores, strict=True):
            self._publish(pending, contexts, request_scores)

    def _publish(self, pending: PendingQuery, contexts: list, request_scores: list[float]) -> None:
        ids = pending.query.candidate_job_ids
        present = [j for j, c in zip(ids, contexts, strict=True) if c is not None]
        missing = {j: "missing_context" for j, c in zip(ids, contexts, strict=True) if c is None}
        self.metrics.items_scored.add(len(present))
        results = rank(
            pending.query,
            dict(zip(present, request_scores, strict=True)),
            missing,
            self.scorer.name,
            self.store.compressor_id,
            self.first_stage_weight,
        )
        self.publisher.result(pending.source, results)

    def fail(self, pending: PendingQuery, exc: Exception) -> None:
        self.publisher.dead_letter(pending.source, "processing_failed", f"{type(exc).__name__}: {exc}")
