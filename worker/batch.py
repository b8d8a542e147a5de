"""Batch: work waits in a queue until a batch is full (by cost) or its first item has lingered enough.

A `Batch` is its own type: the items, their summed cost, and when it opened. The cost is what the
stage is bound by (tokens for scoring, postings for compression). An item costlier than the budget
forms a batch of its own rather than waiting forever.

Order: earliest deadline first, where `deadline_of` gives an item's deadline (time.monotonic()
seconds; None: no deadline). Items without one follow those with one, and equal deadlines keep
arrival order, so a stage without deadlines (the postings stage) is first in, first out. Items
whose deadline has come are taken out with `take_due`, so they can be answered on time without
waiting for the stage's thread: it sleeps until the earliest deadline (or a new item), so a stage
costs no wake-ups while nothing is due (on a machine whose cores the model keeps busy, every
wake-up of another thread stalls the model's threads).
"""

import heapq
import itertools
import math
import threading
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


def no_deadline(_item: object) -> float | None:
    return None


class Batcher(Generic[Item]):
    def __init__(
        self,
        cost: Callable[[Item], int],
        budget: int,
        linger_s: float,
        deadline_of: Callable[[Item], float | None] = no_deadline,
    ) -> None:
        self.cost = cost
        self.budget = budget
        self.linger_s = linger_s
        self.deadline_of = deadline_of
        self._heap: list[tuple[float, int, Item]] = []
        self._arrivals = itertools.count()
        self._ready = threading.Condition()

    def put(self, item: Item) -> None:
        deadline = self.deadline_of(item)
        with self._ready:
            heapq.heappush(self._heap, (math.inf if deadline is None else deadline, next(self._arrivals), item))
            self._ready.notify_all()  # the stage's thread and the deadline watcher both wait here

    def depth(self) -> int:
        with self._ready:
            return len(self._heap)

    def next_batch(self, wait_s: float) -> Batch[Item] | None:
        """Block up to `wait_s` for a first item, then fill until the budget or the linger time."""
        first = self._take(wait_s, None)
        if first is None:
            return None
        batch = Batch([first], self.cost(first))
        closes_at = batch.opened_at + self.linger_s
        while batch.cost < self.budget:
            item = self._take(max(0.0, closes_at - time.monotonic()), self.budget - batch.cost)
            if item is None:
                break
            batch.items.append(item)
            batch.cost += self.cost(item)
        return batch

    def take_due(self, wait_s: float) -> list[Item]:
        """Wait up to `wait_s` until the earliest deadline comes, then remove and return the items
        whose deadline has come (earliest first); [] if none came within `wait_s`."""
        gives_up = time.monotonic() + wait_s
        with self._ready:
            while not self._heap or self._heap[0][0] > time.monotonic():
                wake = min(gives_up, self._heap[0][0] if self._heap else math.inf) - time.monotonic()
                if time.monotonic() >= gives_up:
                    return []
                self._ready.wait(max(wake, 0.0))
            due, now = [], time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[2])
            return due

    def discard(self, drop: Callable[[Item], bool]) -> int:
        """Remove the queued items `drop` selects (their partition went away); returns how many."""
        with self._ready:
            kept = [entry for entry in self._heap if not drop(entry[2])]
            dropped = len(self._heap) - len(kept)
            heapq.heapify(kept)
            self._heap = kept
        return dropped

    def _take(self, wait_s: float, room: int | None) -> Item | None:
        """The first item, once there is one (waiting up to `wait_s`), if its cost fits `room`."""
        with self._ready:
            if not self._heap and wait_s > 0:
                self._ready.wait_for(lambda: bool(self._heap), wait_s)
            if not self._heap or (room is not None and self.cost(self._heap[0][2]) > room):
                return None
            return heapq.heappop(self._heap)[2]
