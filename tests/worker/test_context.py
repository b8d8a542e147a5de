"""The postings stage against a real Redis: dedupe by content hash, ordering inside a batch, deletes."""

from collections.abc import Sequence
from datetime import UTC, datetime

from compressor import Compressed, ContextStore
from compressor.client import StoreClient
from schemas import JobPosting, JobPostingDelete
from worker.batch import Batch
from worker.commit import OffsetTracker
from worker.context import ContextWriter, PendingPosting, supersedes
from worker.kafka import Source
from worker.telemetry import Metrics

T1, T2 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)


def pending(offset: int, event: JobPosting | JobPostingDelete) -> PendingPosting:
    return PendingPosting(Source("postings", 0, offset, None, b"{}", 0.0, datetime.now(UTC)), event)


def upsert(job_id: str, title: str, at: datetime | None = None) -> JobPosting:
    return JobPosting(job_id=job_id, title=title, description="Requirements: 3 years of Python.", updated_at=at)


class Recorder:
    def __init__(self) -> None:
        self.compressed: list[str] = []
        self.progress: list[int] = []  # offsets recorded as applied, in order

    def record_progress(self, sources: Sequence[Source]) -> None:
        self.progress += [s.offset for s in sources]

    def compress_many(self, postings: list[JobPosting]) -> list[Compressed]:
        self.compressed += [p.job_id for p in postings]
        return [Compressed(f"{p.title} ctx", [len(p.title)], "test@1") for p in postings]


def make_writer(client: StoreClient) -> tuple[ContextWriter, Recorder, OffsetTracker, ContextStore]:
    recorder, tracker = Recorder(), OffsetTracker()
    store = ContextStore(client, "test@1", "tok-x")
    writer = ContextWriter(recorder.compress_many, store, None, tracker, Metrics.noop(), recorder.record_progress)
    return writer, recorder, tracker, store


def test_unchanged_repost_costs_no_compression(store_client: StoreClient) -> None:
    writer, recorder, tracker, store = make_writer(store_client)
    for offset in range(3):
        tracker.start("postings", 0, offset)
    writer.handle(Batch([pending(0, upsert("a", "Dev")), pending(1, upsert("b", "Nurse"))]))
    writer.handle(Batch([pending(2, upsert("a", "Dev"))]))
    assert recorder.compressed == ["a", "b"]
    assert [c.text for c in store.get_many(["a", "b"])] == ["Dev ctx", "Nurse ctx"]
    assert tracker.in_flight() == 0
    assert recorder.progress == [0, 1, 2], "each batch's progress, once its outcome is in Redis"


def test_within_a_batch_the_store_rule_picks_the_survivor(store_client: StoreClient) -> None:
    writer, _, _, store = make_writer(store_client)
    writer.handle(
        Batch(
            [
                pending(0, upsert("a", "New", T2)),
                pending(1, upsert("a", "Old", T1)),
                pending(2, upsert("b", "B")),
                pending(3, JobPostingDelete(op="delete", job_id="b")),
            ]
        )
    )
    assert store.get_many(["a", "b"])[0].text == "New ctx"
    assert store.get_many(["b"]) == [None]


def test_supersedes_only_when_both_are_timed_and_the_later_is_older() -> None:
    assert supersedes(upsert("a", "x", T2), upsert("a", "y", T1))
    assert not supersedes(upsert("a", "x", T1), upsert("a", "y", T2))
    assert not supersedes(upsert("a", "x", T2), upsert("a", "y"))
    assert not supersedes(upsert("a", "x"), upsert("a", "y", T1))


def test_a_late_batch_of_earlier_offsets_writes_nothing(store_client: StoreClient) -> None:
    """A zombie (a worker whose partition moved on) or a replay finishes after the new owner."""
    writer, _, _, store = make_writer(store_client)
    writer.handle(Batch([pending(5, upsert("a", "Current")), pending(6, JobPostingDelete(op="delete", job_id="b"))]))
    writer.handle(Batch([pending(3, upsert("a", "Stale")), pending(4, upsert("b", "Deleted later"))]))
    assert store.get_many(["a", "b"])[0].text == "Current ctx"
    assert store.get_many(["b"]) == [None], "an upsert before a delete cannot bring the posting back"


def test_a_dead_lettered_message_moves_its_partitions_progress_after_the_ones_before_it(
    store_client: StoreClient,
) -> None:
    writer, recorder, tracker, store = make_writer(store_client)
    for offset in range(2):
        tracker.start("postings", 0, offset)
    marker = PendingPosting(pending(1, upsert("x", "unused")).source, None)  # offset 1 was dead-lettered
    writer.handle(Batch([pending(0, upsert("a", "Dev")), marker]))
    assert recorder.progress == [0, 1], "the partition's end is reached: the store can be ready"
    assert [c.text for c in store.get_many(["a"])] == ["Dev ctx"] and recorder.compressed == ["a"]
    assert tracker.in_flight() == 1, "the marker's offset is finished by its dead letter's delivery, not here"
    writer.handle(Batch([PendingPosting(pending(2, upsert("y", "unused")).source, None)]))
    assert recorder.progress == [0, 1, 2] and recorder.compressed == ["a"], "a batch of markers only"
