"""Batch: work waits in a queue until a batch is full (by cost) or its first item is old enough.

A `Batch` is its own type: the items, their summed cost, and when it opened. The cost is what the
stage is bound by (tokens for scoring, postings for compression). An item costlier than the budget
forms a batch of its own rather than waiting forever.
"""

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass
class Batch(Generic[Item]):
    items: list[Item] = field(default_factory=list)
    cost: int = 0
    opened_at: float = field(default_factory=time.monotonic)


class Batcher(Generic[Item]):
    def __init__(self, cost: Callable[[Item], int], budget: int, deadline_s: float) -> None:
        self._queue: queue.Queue[Item] = queue.Queue()
        self._held: Item | None = None  # the item that overflowed the previous batch
        self.cost = cost
        self.budget = budget
        self.deadline_s = deadline_s

    def put(self, item: Item) -> None:
        self._queue.put(item)

    def discard(self, drop: Callable[[Item], bool]) -> int:
        """Remove the queued items `drop` selects (their partition went away); returns how many.

        The item held back by the stage thread is left to it: its late outcome is ignored.
        """
        with self._queue.mutex:
            kept = [item for item in self._queue.queue if not drop(item)]
            dropped = len(self._queue.queue) - len(kept)
            self._queue.queue.clear()
            self._queue.queue.extend(kept)
        return dropped

    def depth(self) -> int:
        return self._queue.qsize() + (self._held is not None)

    def next_batch(self, wait_s: float) -> Batch[Item] | None:
        """Block up to `wait_s` for a first item, then fill until the budget or the deadline."""
        first = self._take(wait_s)
        if first is None:
            return None
        batch = Batch([first], self.cost(first))
        closes_at = batch.opened_at + self.deadline_s
        while batch.cost < self.budget:
            item = self._take(max(0.0, closes_at - time.monotonic()))
            if item is None:
                break
            cost = self.cost(item)
            if batch.cost + cost > self.budget:
                self._held = item
                break
            batch.items.append(item)
            batch.cost += cost
        return batch

    def _take(self, wait_s: float) -> Item | None:
        if self._held is not None:
            item, self._held = self._held, None
            return item
        try:
            return self._queue.get(timeout=wait_s) if wait_s > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None
