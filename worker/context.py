"""Context: a batch of posting events becomes compressed contexts in the store (or deletions).

Within a batch, one event per job survives, by the store's own rule: the later event wins unless
both carry `updated_at` and the later one is older (Kafka keys by job_id, so a job's events arrive in
order). An upsert whose content hash matches the stored one costs no compression (the store only
advances its `updated_at` and TTL). Contexts are tokenized once, by the compressor that fits them to
the budget. The store ignores upserts older than what it holds. A posting's message is finished once
its outcome is in Redis, after the batch's progress (each partition's last message, for the store's
epoch: `worker.rebuild.Rebuilder.applied`) is recorded beside it, which is what queries wait for
(`worker.gate`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from compressor import Compressed, ContextEntry, ContextStore, EventOrder, content_hash
from schemas import JobPosting, JobPostingDelete
from schemas.postings import PostingEvent
from worker.batch import Batch
from worker.commit import OffsetTracker
from worker.kafka import Source
from worker.publish import Publisher
from worker.telemetry import Metrics

CompressMany = Callable[[Sequence[JobPosting]], list[Compressed]]
RecordProgress = Callable[[Sequence[Source]], None]


@dataclass(frozen=True)
class PendingPosting:
    """A posting event on its way to the store. `event` None marks a message the loop dead-lettered:
    it changes nothing in the store, but its partition's progress must move past it, after the
    messages before it (else a partition ending in a bad message never reaches its end: the store is
    never ready, and every query waits at the table gate)."""

    source: Source
    event: PostingEvent | None

    @property
    def order(self) -> EventOrder:
        return EventOrder(self.event.updated_at, self.source.partition, self.source.offset)

    @property
    def posting(self) -> JobPosting:
        assert isinstance(self.event, JobPosting), "an upsert"
        return self.event


def supersedes(held: PostingEvent, later: PostingEvent) -> bool:
    """True when `held` stays despite the later event: both are timed and the later one is older."""
    return held.updated_at is not None and later.updated_at is not None and later.updated_at < held.updated_at


class ContextWriter:
    def __init__(
        self,
        compress_many: CompressMany,
        store: ContextStore,
        publisher: Publisher,
        tracker: OffsetTracker,
        metrics: Metrics,
        record_progress: RecordProgress,
    ) -> None:
        self.compress_many = compress_many
        self.record_progress = record_progress
        self.store = store
        self.publisher = publisher
        self.tracker = tracker
        self.metrics = metrics

    def handle(self, batch: Batch[PendingPosting]) -> None:
        """Apply a batch of posting events to the store.

        1. keep one event per job: the later one, unless `supersedes` keeps the earlier;
        2. delete the jobs whose event is a delete (the store leaves a tombstone, and ignores a
           delete older than what it holds);
        3. upsert the rest (`_upsert`): unchanged content only moves the stored order and the TTL;
           changed content is compressed and tokenized in one call, then written, and the store
           ignores a write older than what it holds (each write carries its event's `EventOrder`:
           `updated_at` and the message's partition and offset, so a replay or a zombie's late
           batch writes nothing);
        4. record the batch's progress (each partition's last message, offset and Kafka timestamp),
           now that its outcome is in Redis: queries waiting for the table may go;
           A message the loop dead-lettered travels here as a marker (`PendingPosting.event` None)
           and counts: its partition's progress moves past it in order;
        5. finish every message of the batch but the markers (their dead letters' delivery does).
        """
        events = [p for p in batch.items if p.event is not None]
        latest: dict[str, PendingPosting] = {}
        for pending in events:
            held = latest.get(pending.event.job_id)
            if held is None or not supersedes(held.event, pending.event):
                latest[pending.event.job_id] = pending
        deletes = [p for p in latest.values() if isinstance(p.event, JobPostingDelete)]
        deleted = self.store.delete_many([p.event.job_id for p in deletes], [p.order for p in deletes])
        self.metrics.contexts.add(sum(deleted), {"outcome": "deleted"})
        self.metrics.contexts.add(len(deleted) - sum(deleted), {"outcome": "stale"})
        self._upsert([p for p in latest.values() if isinstance(p.event, JobPosting)])
        self.record_progress([p.source for p in batch.items])
        for pending in events:  # a dead-lettered message is finished by its dead letter's delivery
            src = pending.source
            self.tracker.finish(src.topic, src.partition, src.offset)
            src.span.end()

    def _upsert(self, upserts: list[PendingPosting]) -> None:
        postings = [p.posting for p in upserts]
        hashes = [content_hash(p) for p in postings]
        stored = self.store.stored_hashes([p.job_id for p in postings])
        unchanged = [u for u, h, s in zip(upserts, hashes, stored, strict=True) if h == s]
        changed = [(u, h) for u, h, s in zip(upserts, hashes, stored, strict=True) if h != s]
        self.store.touch_many([u.event.job_id for u in unchanged], [u.order for u in unchanged])
        self.metrics.contexts.add(len(unchanged), {"outcome": "unchanged"})
        if not changed:
            return
        compressed = self.compress_many([u.posting for u, _ in changed])
        entries = [
            ContextEntry(u.event.job_id, c.text, c.token_ids, h, u.order, c.compressor)
            for (u, h), c in zip(changed, compressed, strict=True)
        ]
        written = self.store.put_many(entries)
        self.metrics.contexts.add(sum(written), {"outcome": "written"})
        self.metrics.contexts.add(len(written) - sum(written), {"outcome": "stale"})

    def fail(self, pending: PendingPosting, exc: Exception) -> None:
        """Dead-letter an event that failed alone (a marker was dead-lettered already); either way its
        partition's progress moves past it."""
        if pending.event is not None:
            self.publisher.dead_letter(pending.source, "processing_failed", f"{type(exc).__name__}: {exc}")
        self.record_progress([pending.source])
