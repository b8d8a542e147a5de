"""Rebuild by replay: postings workers keep the context store's epoch, and replay the postings topic
(compacted: it holds every job's latest event) into a store that is new, wiped or to be rebuilt.

A postings partition's start, in the current epoch (`position`): one past the last message applied
in it (the epoch's progress, `compressor.epoch`), or its beginning if this epoch applied nothing of
it. The group's committed offset is not used: after a wipe it points past what the store lost. The
store's `EventOrder` makes a replay idempotent (what is stored is not written again).

`Rebuilder`, on the consume loop's thread:
- `start_positions(partitions)`, on assignment: sets each postings partition's start (the beginning
  if Redis cannot be read: a replay is safe, a skip is not);
- `due(assigned)`, every `EPOCH_CHECK_S` (`REBUILDING_CHECK_S` while the store is not ready):
  1. read the epoch; none (Redis new or wiped): begin one, `rebuilding`, and log it;
  2. an epoch other than ours (begun here or elsewhere, or `rankstream contexts rebuild`): adopt it,
     log it, and hand back every assigned postings partition at its start, for the loop to drop its
     queued work and seek (`positioned` once done);
  3. a rebuilding epoch whose every partition has applied everything it holds (`Table.complete`):
     mark it ready and log how long it took;
- `applied(sources)`, from the postings stage once a batch's outcome is in Redis: records each
  partition's last message (offset, Kafka timestamp, and the partition's end as the loop last saw it
  in a fetch, `saw_end`) as the epoch's progress, counting only messages consumed since their
  partition's start was set (a batch read before a seek is not the replay's).
Ignores query traffic; the query side reads the same epoch and progress (`worker.table`, `worker.gate`).
"""

import logging
import time
from collections.abc import Sequence

import redis
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from compressor.epoch import Applied, EpochStore, Progress
from worker.kafka import Source
from worker.redis_client import UNAVAILABLE_ERRORS
from worker.table import Table, TableView

log = logging.getLogger(__name__)

# How often the epoch is read: a wiped store is noticed, and its replay started, within this.
EPOCH_CHECK_S = 1.0
# While the store is rebuilding, queries wait for it to be marked ready: it is checked this often.
REBUILDING_CHECK_S = 0.2


def now_ms() -> int:
    return int(time.time() * 1e3)


def position(progress: Progress, partition: int) -> int:
    """Where a partition starts in the current epoch: after its last applied message, or its beginning."""
    applied = progress.applied.get(partition)
    return OFFSET_BEGINNING if applied is None else applied.offset + 1


class Rebuilder:
    def __init__(self, epochs: EpochStore, view: TableView, topic: str) -> None:
        self.epochs = epochs
        self.view = view
        self.topic = topic
        self.epoch: str | None = None  # the epoch this worker writes progress for
        self._checked_at = -float("inf")
        self._check_every = EPOCH_CHECK_S
        self._since: dict[int, float] = {}  # partition -> time.monotonic() its start was last set
        self._to_position: set[int] = set()  # partitions to seek to their start
        self._fetched_end: dict[int, int] = {}  # partition -> high watermark of its last fetch

    def start_positions(self, partitions: list[TopicPartition]) -> None:
        """On assignment: each postings partition's start, set in place."""
        postings = [tp for tp in partitions if tp.topic == self.topic]
        if not postings:
            return
        try:
            progress = self._current(postings).progress
        except (redis.RedisError, *UNAVAILABLE_ERRORS) as exc:
            log.warning("context store unreadable at assignment (%s): replaying from the beginning", exc)
            progress = Progress(None, {})
        for tp in postings:
            tp.offset = position(progress, tp.partition)
            self._since[tp.partition] = time.monotonic()
            self._to_position.discard(tp.partition)

    def due(self, assigned: list[TopicPartition]) -> list[TopicPartition]:
        """Postings partitions to seek now, at their start (steps in the module docstring)."""
        if time.monotonic() - self._checked_at < self._check_every:
            return []
        self._checked_at = time.monotonic()
        postings = [tp for tp in assigned if tp.topic == self.topic]
        try:
            table = self._current(postings)
            ready = self._mark_ready_when_complete(table)
            self._check_every = EPOCH_CHECK_S if ready else REBUILDING_CHECK_S
        except (redis.RedisError, *UNAVAILABLE_ERRORS) as exc:
            log.warning("context store epoch not read (again in %.0f s): %s", EPOCH_CHECK_S, exc)
            return []
        self._to_position &= {tp.partition for tp in postings}
        return [TopicPartition(self.topic, p, position(table.progress, p)) for p in sorted(self._to_position)]

    def positioned(self, partition: int) -> None:
        """The loop has sought `partition` to its start."""
        self._to_position.discard(partition)

    def saw_end(self, partition: int, high: int) -> None:
        """The loop consumed from `partition`; its consumer's last fetch reported this high watermark."""
        self._fetched_end[partition] = high

    def applied(self, sources: Sequence[Source]) -> None:
        """A batch's outcome is in Redis: record each partition's last message as the epoch's progress."""
        epoch = self.epoch  # read before the filter: an epoch is adopted only after `_since` moved
        last: dict[int, Applied] = {}
        for src in sources:
            if src.topic != self.topic or src.received_at < self._since.get(src.partition, float("inf")):
                continue
            held = last.get(src.partition)
            if held is None or held.offset < src.offset:
                stamp = int(src.timestamp.timestamp() * 1e3)
                last[src.partition] = Applied(src.offset, stamp, self._fetched_end.get(src.partition, -1))
        if epoch is not None:
            self.epochs.advance(epoch, last)

    def _current(self, postings: list[TopicPartition]) -> Table:
        """The table, beginning an epoch where there is none; a new epoch is adopted, and `postings`
        are to restart from what it has applied (their messages consumed so far no longer count)."""
        table = self.view.read(now_ms())
        if table.progress.epoch is None:
            epoch_id = self.epochs.begin()
            log.warning(
                "context store has no epoch (Redis new, restarted empty or wiped): began %s, "
                "rebuilding it by replaying %s",
                epoch_id,
                self.topic,
            )
            table = self.view.read(now_ms())
        epoch = table.progress.epoch
        assert epoch is not None, "an epoch was begun"
        if epoch.id != self.epoch:
            say = log.info if self.epoch is None else log.warning  # at start, or a new epoch while running
            say("context store epoch %s (%s): postings partitions restart from its progress", epoch.id, epoch.state)
            for tp in postings:
                self._since[tp.partition] = time.monotonic()
                self._to_position.add(tp.partition)
            self.epoch = epoch.id
        return table

    def _mark_ready_when_complete(self, table: Table) -> bool:
        """True when the epoch is ready (already, or marked now)."""
        epoch = table.progress.epoch
        if table.progress.ready or epoch is None or not table.complete():
            return table.progress.ready
        if self.epochs.mark_ready(epoch.id):
            log.warning(
                "context store epoch %s ready: rebuilt from %s in %.1f s",
                epoch.id,
                self.topic,
                time.time() - epoch.started_at,
            )
        return True
