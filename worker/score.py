"""Score: a batch of queries gets its contexts from Redis, one engine call, and its results published.

Each request's candidates are fetched in one round trip; candidates without a stored context are
reported as unscored: "missing_context", or "context_store_rebuilding" while the store is missing or
being rebuilt (`ContextStore.fetch`), or "context_store_unavailable" when it did not answer within
`RANKSTREAM_REDIS_WAIT_S` (`worker.fetch`). A query the table gate let through before the postings table
caught up to it (`worker.gate`) is answered with `table_behind`. All requests of a batch share one
call of the scorer, which packs them under its token budget.

Deadlines (`PendingQuery.deadline`, on the time.monotonic() clock): a query is answered on time,
never silently late. `expire` answers the queries whose deadline came while they waited (the stage
calls it from its watcher thread); `handle` answers degraded, without scoring, each query of its
batch that the batch would finish after its deadline, estimated at the slowest seconds per unit of
cost among the last `RATE_WINDOW` batches (a batch of cold postings runs several times slower than
one of cached postings: an average would let a cold batch run past its queries' deadlines).
Degraded answers follow `rank.degraded`; late and degraded answers are counted.

Traces (`worker.tracing`): a query's `process` span gets `batch wait`, `context fetch` and `score`
children, and each engine call a `score batch` span linked to the queries it scored.
"""

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from compressor import ContextStore, Fetched
from schemas import SearchQuery, absolute_deadline
from slm import EncodedQuery, Scorer
from worker.batch import Batch
from worker.fetch import fetch_within
from worker.kafka import Source
from worker.publish import Publisher
from worker.rank import degraded, rank
from worker.telemetry import Metrics
from worker.tracing import NO_TRACING, Tracing, wall_ns

# Prompt tokens around each item (head + tail) and per request (the prefix), for batch costing
# before the contexts are fetched; exact counts are not needed to bound a batch. With the job-first
# default model this over-counts (a posting met before is a cached prefix, `slm.engine.prefix_cache`), so a
# 50-candidate query goes alone; measured by `bench.serving`, calls of 1, 4, 8 or 16 queries ran
# equally fast once the cache was warm, so the estimate costs no throughput.
ITEM_OVERHEAD_TOKENS = 24
REQUEST_OVERHEAD_TOKENS = 64
# Batches whose seconds per unit of cost the deadline estimate takes the slowest of: enough to hold
# a cold batch among warm ones, few enough to follow a lasting change (a cache that has warmed up).
RATE_WINDOW = 16


def monotonic_at(moment: datetime) -> float:
    """`moment` on this process's time.monotonic() clock."""
    return time.monotonic() + (moment.timestamp() - time.time())


@dataclass(frozen=True)
class PendingQuery:
    source: Source
    query: SearchQuery
    enqueued_at: float
    deadline: float | None = None  # time.monotonic() by which the answer is due
    table_behind: bool = False  # let through before the postings table caught up to it (`worker.gate`)

    @classmethod
    def of(cls, source: Source, query: SearchQuery, default_deadline_ms: int | None = None) -> "PendingQuery":
        due = absolute_deadline(query, source.timestamp, default_deadline_ms)
        return cls(source, query, time.monotonic(), None if due is None else monotonic_at(due))


class ScoringRate:
    """Seconds per unit of cost of the last `window` batches; a batch's end is estimated at the slowest."""

    def __init__(self, window: int = RATE_WINDOW) -> None:
        self._rates: deque[float] = deque(maxlen=window)

    def record(self, seconds: float, cost: int) -> None:
        self._rates.append(seconds / max(cost, 1))

    def finish(self, started: float, cost: int) -> float:
        """When a batch of `cost` started at `started` ends, at worst (`started` before any batch ran)."""
        return started + max(self._rates, default=0.0) * cost


class QueryScorer:
    def __init__(
        self,
        scorer: Scorer,
        store: ContextStore,
        publisher: Publisher,
        metrics: Metrics,
        context_budget_tokens: int,
        first_stage_weight: float = 0.0,
        tracing: Tracing = NO_TRACING,
        store_wait_s: float = float("inf"),
    ) -> None:
        self.scorer = scorer
        self.tracing = tracing
        self.first_stage_weight = first_stage_weight
        self.store = store
        self.store_wait_s = store_wait_s
        self.publisher = publisher
        self.metrics = metrics
        self.item_cost = context_budget_tokens + ITEM_OVERHEAD_TOKENS
        self.rate = ScoringRate()

    def deadline_of(self, pending: PendingQuery) -> float | None:
        return pending.deadline

    def expire(self, due: list[PendingQuery]) -> None:
        """Answer queries whose deadline came before they could be scored."""
        for pending in due:
            self._degrade(pending)

    def cost(self, pending: PendingQuery) -> int:
        """Estimated tokens of a request, for the batcher's budget."""
        return REQUEST_OVERHEAD_TOKENS + self.item_cost * len(pending.query.candidate_job_ids)

    def handle(self, batch: Batch[PendingQuery]) -> None:
        started = time.monotonic()
        finish = self.rate.finish(started, batch.cost)
        doomed = [p for p in batch.items if p.deadline is not None and p.deadline < finish]
        live = [p for p in batch.items if p.deadline is None or p.deadline >= finish]
        self.expire(doomed)
        if live:
            self._score(live, started)

    def _score(self, items: list[PendingQuery], started: float) -> None:
        for pending in items:
            self.metrics.queue_wait.record(started - pending.enqueued_at)
            waited = self.tracing.child(pending.source.span, "batch wait", start_ns=wall_ns(pending.enqueued_at))
            waited.end(wall_ns(started))
        fetched = [self._fetch(p) for p in items]
        encoded = [
            EncodedQuery(p.query.query, [c.token_ids for c in f.contexts if c is not None])
            for p, f in zip(items, fetched, strict=True)
        ]
        tokens = sum(len(ids) for q in encoded for ids in q.contexts)
        forward_started = time.monotonic()
        batch = {"rankstream.batch.requests": len(items), "rankstream.batch.tokens": tokens}
        with self.tracing.shared("score", [p.source.span for p in items], batch):
            scores = self.scorer.score_encoded(encoded)
        self.metrics.forward_seconds.record(time.monotonic() - forward_started)
        elapsed = time.monotonic() - started
        self.metrics.batch_requests.record(len(items))
        self.metrics.batch_tokens.record(tokens)
        self.rate.record(elapsed, sum(self.cost(p) for p in items))
        for pending, read, request_scores in zip(items, fetched, scores, strict=True):
            self._publish(pending, read, request_scores)

    def _fetch(self, pending: PendingQuery) -> Fetched:
        """A query's contexts, in one round trip (timed apart from the model)."""
        began = time.monotonic()
        fetch = {"db.system.name": "redis", "rankstream.candidates": len(pending.query.candidate_job_ids)}
        with self.tracing.step(pending.source.span, "context fetch", fetch):
            fetched = fetch_within(self.store, pending.query.candidate_job_ids, self.store_wait_s)
        self.metrics.context_fetch.record(time.monotonic() - began)
        self.metrics.request_items.record(len(fetched.contexts))
        return fetched

    def _publish(self, pending: PendingQuery, fetched: Fetched, request_scores: list[float]) -> None:
        ids = pending.query.candidate_job_ids
        present = [j for j, c in zip(ids, fetched.contexts, strict=True) if c is not None]
        missing = {j: fetched.missing_reason for j, c in zip(ids, fetched.contexts, strict=True) if c is None}
        self.metrics.items_scored.add(len(present))
        results = rank(
            pending.query,
            dict(zip(present, request_scores, strict=True)),
            missing,
            self.scorer.name,
            self.store.compressor_id,
            self.first_stage_weight,
        ).model_copy(update={"table_behind": pending.table_behind})
        if pending.deadline is not None and time.monotonic() > pending.deadline:
            self.metrics.deadline_answers.add(1, {"outcome": "late"})
        self.publisher.result(pending.source, results)

    def _degrade(self, pending: PendingQuery) -> None:
        self.metrics.deadline_answers.add(1, {"outcome": "degraded"})
        pending.source.span.set_attribute("rankstream.degraded", "deadline_exceeded")
        results = degraded(pending.query, "deadline_exceeded", self.scorer.name, self.store.compressor_id)
        self.publisher.result(pending.source, results)

    def fail(self, pending: PendingQuery, exc: Exception) -> None:
        self.publisher.dead_letter(pending.source, "processing_failed", f"{type(exc).__name__}: {exc}")
