"""Batches close on their cost budget or their deadline; an over-budget item rides alone."""

import threading
import time

from worker.batch import Batcher


def test_budget_closes_a_batch_and_the_overflow_opens_the_next() -> None:
    batcher = Batcher[int](cost=lambda n: n, budget=10, linger_s=0.05)
    for n in (4, 5, 3, 2):
        batcher.put(n)
    assert batcher.next_batch(1.0).items == [4, 5]
    assert batcher.depth() == 2
    batch = batcher.next_batch(0.0)
    assert batch.items == [3, 2] and batch.cost == 5


def test_deadline_closes_a_partial_batch() -> None:
    batcher = Batcher[int](cost=lambda n: n, budget=100, linger_s=0.05)
    batcher.put(1)
    started = time.monotonic()
    batch = batcher.next_batch(1.0)
    assert batch.items == [1] and batch.cost == 1
    assert time.monotonic() - started < 1.0


def test_an_item_costlier_than_the_budget_forms_its_own_batch() -> None:
    batcher = Batcher[int](cost=lambda n: n, budget=10, linger_s=0.01)
    for n in (50, 1):
        batcher.put(n)
    assert batcher.next_batch(1.0).items == [50]
    assert batcher.next_batch(1.0).items == [1]


def test_items_arriving_before_the_deadline_join_the_batch() -> None:
    batcher = Batcher[int](cost=lambda n: 1, budget=100, linger_s=0.5)
    batcher.put(0)
    threading.Timer(0.05, batcher.put, args=(1,)).start()
    assert batcher.next_batch(1.0).items == [0, 1]


def test_empty_queue_returns_none() -> None:
    assert Batcher[int](cost=lambda n: 1, budget=1, linger_s=0.0).next_batch(0.01) is None


def test_discard_removes_only_the_selected_queued_items() -> None:
    batcher: Batcher[int] = Batcher(lambda _: 1, budget=100, linger_s=0.0)
    for item in range(6):
        batcher.put(item)
    assert batcher.discard(lambda item: item % 2 == 1) == 3
    assert batcher.depth() == 3
    batch = batcher.next_batch(0.1)
    assert batch is not None and batch.items == [0, 2, 4]


def test_earliest_deadline_first_then_arrival_order_without_deadlines() -> None:
    deadlines = {"late": 30.0, "soon": 10.0, "none-1": None, "mid": 20.0, "none-2": None}
    batcher = Batcher[str](cost=lambda _: 1, budget=100, linger_s=0.0, deadline_of=deadlines.get)
    for name in deadlines:
        batcher.put(name)
    batch = batcher.next_batch(0.1)
    assert batch is not None and batch.items == ["soon", "mid", "late", "none-1", "none-2"]


def test_take_due_takes_only_items_whose_deadline_came() -> None:
    now = time.monotonic()
    deadlines = {"a": now + 60, "b": now - 2, "c": None, "d": now - 1}
    batcher = Batcher[str](cost=lambda _: 1, budget=100, linger_s=0.0, deadline_of=deadlines.get)
    for name in deadlines:
        batcher.put(name)
    assert batcher.take_due(0.0) == ["b", "d"]
    assert batcher.take_due(0.05) == []
    assert batcher.depth() == 2


def test_take_due_wakes_at_the_earliest_deadline_even_one_queued_while_it_waits() -> None:
    batcher = Batcher[float](cost=lambda _: 1, budget=100, linger_s=0.0, deadline_of=lambda d: d)
    batcher.put(time.monotonic() + 60)
    soon = time.monotonic() + 0.2
    threading.Timer(0.05, batcher.put, [soon]).start()
    assert batcher.take_due(5.0) == [soon]
    assert 0 <= time.monotonic() - soon < 0.05, "answered at its deadline, not at the earlier one's or later"
