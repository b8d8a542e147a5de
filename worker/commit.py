"""Offset tracking: commit each partition up to its first unfinished message.

A message is *started* when consumed and *finished* when its outcome (a delivered result, a delivered
dead letter, or a stored context) is durable. Batches finish out of order, so the committable
position of a partition is its smallest unfinished offset, or one past the last consumed when none
is pending. Thread-safe: producer delivery callbacks finish messages from librdkafka's poll.
A position handed to commit() counts as committed until the commit reports failure (`rewind`),
which makes the next `committable()` offer it again.
"""

import threading
from collections.abc import Collection
from dataclasses import dataclass, field

from confluent_kafka import TopicPartition

Partition = tuple[str, int]


@dataclass
class _PartitionState:
    pending: set[int] = field(default_factory=set)
    next_offset: int = 0  # one past the highest offset started
    committed: int = -1  # last position handed to commit()


class OffsetTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[Partition, _PartitionState] = {}

    def start(self, topic: str, partition: int, offset: int) -> None:
        with self._lock:
            state = self._parts.setdefault((topic, partition), _PartitionState())
            state.pending.add(offset)
            state.next_offset = max(state.next_offset, offset + 1)

    def finish(self, topic: str, partition: int, offset: int) -> None:
        with self._lock:
            state = self._parts.get((topic, partition))
            if state is not None:  # None: the partition was revoked meanwhile
                state.pending.discard(offset)

    def in_flight(self, partitions: Collection[Partition] | None = None) -> int:
        """Messages started and not finished, in all partitions or only in `partitions`."""
        with self._lock:
            return sum(len(s.pending) for p, s in self._parts.items() if partitions is None or p in partitions)

    def committable(
        self, everything: bool = False, partitions: Collection[Partition] | None = None
    ) -> list[TopicPartition]:
        """Positions that moved since the last call, or all of them (for a final synchronous commit);
        of every partition, or only of `partitions`."""
        out = []
        with self._lock:
            for (topic, partition), state in self._parts.items():
                if partitions is not None and (topic, partition) not in partitions:
                    continue
                position = min(state.pending) if state.pending else state.next_offset
                if position > state.committed or (everything and position > 0):
                    out.append(TopicPartition(topic, partition, position))
                    state.committed = position
        return out

    def rewind(self, failed: list[TopicPartition]) -> None:
        """A commit of these positions failed: offer them again."""
        with self._lock:
            for tp in failed:
                state = self._parts.get((tp.topic, tp.partition))
                if state is not None and state.committed >= tp.offset:
                    state.committed = tp.offset - 1

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop revoked partitions: their late outcomes no longer move offsets."""
        with self._lock:
            for tp in partitions:
                self._parts.pop((tp.topic, tp.partition), None)
