"""The postings table as a worker sees it: the store's epoch and progress (Redis), and where each
postings partition ends (the broker).

`TableView.read(ends_from_ms)` returns a `Table`: the epoch and, per postings partition, the last
message applied in it (`compressor.epoch`), with the partitions' watermarks (`worker.kafka.watermarks`),
asked of the broker again only when the last reading is older than `ends_from_ms` (epoch ms), and
then at most every `WATERMARKS_MIN_INTERVAL_S`; the last reading stands while the broker is away.

`Table.caught_up(t)` is the stream–table join's condition for a query with Kafka timestamp `t` (ms):
the store is built (its epoch ready: never a half-built table, nor one being replayed) and every
postings partition has applied a message stamped at or after `t` (so every posting sent before the
query in that partition is applied, as Kafka Streams assumes of timestamps within a partition), or
has applied everything it held when its watermarks were read, at least `END_AFTER_MS` after `t`.
A partition's end is the larger of its high watermark (ListOffsets) and the one the postings consumer
saw in its last fetch (recorded with the progress): some brokers (Tansu) answer ListOffsets with one
past the first offset of the last produced batch, while their fetch responses carry the true end.
`Table.complete()` says every partition has applied everything it held: a rebuild is done.
Ignores postings stamped after the query that arrive before it (they are applied, and seen: the
table is at least as new as the query, never older) and messages of an open transaction.
"""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException

from compressor.epoch import EpochStore, Progress
from worker.kafka import watermarks

log = logging.getLogger(__name__)

# A posting produced just before a query may still be in its producer's batch (librdkafka lingers
# 5 ms by default) or on the wire when the query reaches us: a partition's end counts for a query only
# if read this long after the query's timestamp. A linger and a LAN round trip fit inside it; an idle
# postings topic costs a live query about this much waiting, so it is kept short.
END_AFTER_MS = 25
# Watermarks (one request per partition, ~0.5 ms each on a LAN) are asked at most this often.
WATERMARKS_MIN_INTERVAL_S = 0.01
# A broker slower than this counts as away for this reading (the last one is kept): well above a
# LAN round trip, short enough that the gate's thread still answers deadlines nearly on time.
WATERMARKS_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class Ends:
    """Each postings partition's (low, high) watermarks, and when they were read (epoch ms)."""

    offsets: Mapping[int, tuple[int, int]]
    read_at_ms: int


@dataclass(frozen=True)
class Table:
    progress: Progress
    ends: Ends | None  # None: the broker has not answered yet

    @property
    def rebuilding(self) -> bool:
        """The store is missing (no epoch) or being rebuilt."""
        return not self.progress.ready

    def at_end(self, partition: int) -> bool:
        """`partition` had applied everything it held when its watermarks were read."""
        assert self.ends is not None, "ends read"
        low, high = self.ends.offsets[partition]
        applied = self.progress.applied.get(partition)
        return high <= low if applied is None else applied.offset + 1 >= max(high, applied.fetched_end)

    def caught_up(self, timestamp_ms: int) -> bool:
        """The store is ready and every partition has applied past `timestamp_ms`, or up to its end
        read after it."""
        if not self.progress.ready or self.ends is None:
            return False
        ends_after = self.ends.read_at_ms >= timestamp_ms + END_AFTER_MS
        return all(self._passed(p, timestamp_ms) or (ends_after and self.at_end(p)) for p in self.ends.offsets)

    def complete(self) -> bool:
        return self.progress.epoch is not None and self.ends is not None and all(map(self.at_end, self.ends.offsets))

    def _passed(self, partition: int, timestamp_ms: int) -> bool:
        applied = self.progress.applied.get(partition)
        return applied is not None and applied.timestamp_ms >= timestamp_ms


class TableView:
    """Reads the table; used from one thread (its consumer is its own)."""

    def __init__(self, epochs: EpochStore, reader: Consumer, topic: str) -> None:
        self.epochs = epochs
        self.reader = reader
        self.topic = topic
        self.latest: Table | None = None  # the last reading, for gauges
        self._ends: Ends | None = None
        self._ends_at = -float("inf")

    def read(self, ends_from_ms: int) -> Table:
        """The progress now (raises on a Redis error) and watermarks read at `ends_from_ms` or later,
        where the interval allows."""
        progress = self.epochs.read()
        stale = self._ends is None or self._ends.read_at_ms < ends_from_ms
        if stale and time.monotonic() - self._ends_at >= WATERMARKS_MIN_INTERVAL_S:
            self._ends_at = time.monotonic()
            read_at_ms = int(time.time() * 1e3)
            try:
                self._ends = Ends(watermarks(self.reader, self.topic, WATERMARKS_TIMEOUT_S), read_at_ms)
            except (KafkaException, KeyError) as exc:  # the broker is away: the last reading stands
                log.debug("watermarks of %s not read: %s", self.topic, exc)
        self.latest = Table(progress, self._ends)
        return self.latest

    def rebuilding(self) -> float:
        """1 while the store is missing or rebuilding, as last read (a gauge's value)."""
        return float(self.latest is None or self.latest.rebuilding)
