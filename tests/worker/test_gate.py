"""The table gate and its condition: a query waits for the postings table to catch up to its Kafka
timestamp, without holding up the queries already let through; its deadline, its wait running out,
a revoked partition and an unreadable Redis each end the wait as the contract says."""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from compressor.epoch import Applied, Epoch, Progress
from schemas import SearchQuery
from worker.batch import Batch, Batcher
from worker.gate import TableGate
from worker.kafka import Source
from worker.score import PendingQuery
from worker.stage import Stage
from worker.table import END_AFTER_MS, Ends, Table
from worker.telemetry import Metrics

EPOCH = Epoch("e1", "ready", 0.0)
WAIT_S = 0.6


def table(applied: dict[int, Applied], ends: dict[int, tuple[int, int]], read_at_ms: int = 10_000) -> Table:
    return Table(Progress(EPOCH, applied), Ends(ends, read_at_ms))


def test_a_partition_is_caught_up_by_a_later_message_or_by_its_end_read_after_the_query() -> None:
    behind = table({0: Applied(4, 900), 1: Applied(9, 1_000)}, {0: (0, 10), 1: (0, 10)})
    assert behind.caught_up(900) and not behind.caught_up(901), "partition 0 has applied up to 900 only"
    at_end = table({0: Applied(9, 900), 1: Applied(9, 950)}, {0: (0, 10), 1: (0, 10)}, read_at_ms=2_000)
    assert at_end.caught_up(2_000 - END_AFTER_MS), "both applied all they held when read after the query"
    assert not at_end.caught_up(2_000), "a reading as old as the query may miss a posting still on its way"
    under_reported = table({0: Applied(9, 900, fetched_end=250)}, {0: (0, 10)}, read_at_ms=2_000)
    assert not under_reported.caught_up(1_000), "the applying consumer's fetch saw the partition end at 250"
    assert not under_reported.complete()
    empty = table({0: Applied(9, 900)}, {0: (0, 10), 1: (5, 5)})
    assert empty.caught_up(1_000), "a partition holding nothing is at its end"
    assert not table({0: Applied(9, 900)}, {0: (0, 10), 1: (0, 3)}).caught_up(1_000), "nothing applied of 1"
    assert not Table(Progress(None, {}), Ends({}, 10_000)).caught_up(0), "no store: nothing is caught up"
    rebuilding = Progress(Epoch("e2", "rebuilding", 0.0), {0: Applied(9, 900)})
    assert not Table(rebuilding, Ends({0: (0, 10)}, 10_000)).caught_up(0), "nor while it is being rebuilt"
    assert not Table(Progress(EPOCH, {0: Applied(9, 900)}), None).caught_up(0), "ends never read"


def test_the_table_is_complete_when_every_partition_applied_what_it_held() -> None:
    assert table({0: Applied(9, 1), 1: Applied(2, 1)}, {0: (0, 10), 1: (0, 3), 2: (0, 0)}).complete()
    assert not table({0: Applied(8, 1)}, {0: (0, 10)}).complete()
    assert Table(Progress(Epoch("e2", "rebuilding", 0.0), {}), Ends({0: (0, 0)}, 0)).rebuilding


class Scored:
    """The queries stage behind the gate: what it scored, and a switch to hold its thread."""

    def __init__(self) -> None:
        self.items: list[PendingQuery] = []
        self.expired: list[PendingQuery] = []
        self.open = threading.Event()
        self.open.set()

    def handle(self, batch: Batch[PendingQuery]) -> None:
        self.open.wait(5)
        self.items += batch.items

    def ids(self) -> list[str]:
        return [p.query.request_id for p in self.items]


def pending_query(request_id: str, sent_ms: int, partition: int = 0, deadline: float | None = None) -> PendingQuery:
    query = SearchQuery(request_id=request_id, query="nurse", candidate_job_ids=["j1"])
    sent = datetime.fromtimestamp(sent_ms / 1e3, UTC)
    return PendingQuery(Source("q", partition, 0, None, b"", time.monotonic(), sent), query, time.monotonic(), deadline)


def make_gate(read_table: Callable[[int], Table]) -> tuple[TableGate, Scored]:
    scored = Scored()
    stage = Stage("queries", Batcher[PendingQuery](lambda _: 1, 8, 0.0), scored.handle, fail_test)
    gate = TableGate(stage, read_table, WAIT_S, scored.expired.extend, Metrics.noop())
    gate.start()
    return gate, scored


def fail_test(item: PendingQuery, exc: Exception) -> None:
    raise AssertionError(f"{item.query.request_id} failed: {exc}")


def wait_until(done: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_query_waits_for_the_table_while_queries_already_caught_up_are_scored() -> None:
    now = {"applied": Applied(5, 1_000)}
    gate, scored = make_gate(lambda _: table({0: now["applied"]}, {0: (0, 100)}))
    gate.submit(pending_query("later", 2_000))
    gate.submit(pending_query("earlier", 900))
    wait_until(lambda: scored.ids() == ["earlier"])
    assert gate.pending() == 1 and gate.waiting() == 1, "the waiting query counts as in flight"
    now["applied"] = Applied(6, 2_000)
    wait_until(lambda: scored.ids() == ["earlier", "later"])
    assert not any(p.table_behind for p in scored.items)
    wait_until(lambda: gate.pending() == 0)
    gate.stop(1.0)


def test_the_gate_never_waits_on_the_scoring_thread() -> None:
    gate, scored = make_gate(lambda _: table({0: Applied(5, 1_000)}, {0: (0, 100)}))
    scored.open.clear()  # the model is busy with a batch
    gate.submit(pending_query("busy", 0))
    wait_until(lambda: gate.waiting() == 0)
    gate.submit(pending_query("next", 500))
    wait_until(lambda: gate.waiting() == 0)  # let through although the stage has not taken it yet
    assert gate.pending() == 2
    scored.open.set()
    wait_until(lambda: sorted(scored.ids()) == ["busy", "next"])
    gate.stop(1.0)


def test_a_query_whose_wait_runs_out_is_scored_and_says_so() -> None:
    gate, scored = make_gate(lambda _: table({0: Applied(5, 1_000)}, {0: (0, 100)}))
    submitted = time.monotonic()
    gate.submit(pending_query("stuck", 5_000))
    wait_until(lambda: scored.ids() == ["stuck"])
    assert time.monotonic() - submitted >= WAIT_S
    assert scored.items[0].table_behind
    gate.stop(1.0)


def test_a_query_whose_deadline_comes_while_it_waits_is_answered_degraded() -> None:
    gate, scored = make_gate(lambda _: table({0: Applied(5, 1_000)}, {0: (0, 100)}))
    gate.submit(pending_query("due", 5_000, deadline=time.monotonic() + 0.1))
    wait_until(lambda: len(scored.expired) == 1)
    assert scored.expired[0].query.request_id == "due" and not scored.items
    assert gate.pending() == 0
    gate.stop(1.0)


def test_a_revoked_partition_drops_its_waiting_queries() -> None:
    gate, scored = make_gate(lambda _: table({0: Applied(5, 1_000)}, {0: (0, 100)}))
    gate.submit(pending_query("gone", 5_000, partition=1))
    gate.submit(pending_query("kept", 5_000, partition=2))
    gate.discard(lambda p: p.source.partition == 1)
    assert gate.pending() == 1
    wait_until(lambda: scored.ids() == ["kept"])
    gate.stop(1.0)


def test_while_redis_cannot_be_read_queries_wait_out_their_time() -> None:
    def unreadable(_ends_from_ms: int) -> Table:
        raise ConnectionError("redis is away")

    gate, scored = make_gate(unreadable)
    gate.submit(pending_query("q", 0))
    time.sleep(WAIT_S / 2)
    assert not scored.items, "not let through as caught up"
    wait_until(lambda: scored.ids() == ["q"])
    assert scored.items[0].table_behind
    gate.stop(1.0)
