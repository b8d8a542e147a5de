"""Offset tracking: commit each partition up to its first unfinished message.

A message is *started* when consumed and *finished* when its outcome (a delivered result, a delivered
dead letter, or a stored context) is durable. Batches finish out of order, so the committable
position of a partition is its smallest unfinished offset, or one past the last consumed when none
is pending. Thread-safe: producer delivery callbacks finish messages from librdkafka's poll.
"""

import threading
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

    def in_flight(self) -> int:
        with self._lock:
            return sum(len(s.pending) for s in self._parts.values())

    def committable(self, everything: bool = False) -> list[TopicPartition]:
        """Positions that moved since the last call, or all of them (for a final synchronous commit)."""
        out = []
        with self._lock:
            for (topic, partition), state in self._parts.items():
                position = min(state.pending) if state.pending else state.next_offset
                if position > state.committed or (everything and position > 0):
                    out.append(TopicPartition(topic, partition, position))
                    state.committed = position
        return out

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop revoked partitions: their late outcomes no longer move offsets."""
        with self._lock:
            for tp in partitions:
                self._parts.pop((tp.topic, tp.partition), None)
