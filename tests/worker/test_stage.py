"""Stages retry dependency errors on the same batch and isolate inputs that fail on their own."""

import threading
import time

import redis

from worker.batch import Batch, Batcher
from worker.stage import Stage


def run_until_idle(stage: Stage[int], items: list[int]) -> None:
    stage.start()
    for item in items:
        stage.submit(item)
    deadline = time.monotonic() + 10
    while stage.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    stage.stop(1.0)
    assert stage.pending() == 0


def test_a_failing_item_is_isolated_and_its_batch_mates_succeed() -> None:
    handled: list[int] = []
    failed: list[tuple[int, str]] = []

    def handle(batch: Batch[int]) -> None:
        if 3 in batch.items:
            raise ValueError("bad input 3")
        handled.extend(batch.items)

    stage = Stage("t", Batcher[int](lambda _: 1, 10, 0.05), handle, lambda i, e: failed.append((i, str(e))))
    run_until_idle(stage, [1, 2, 3, 4])
    assert sorted(handled) == [1, 2, 4]
    assert failed == [(3, "bad input 3")]


def test_dependency_errors_are_retried_not_dead_lettered() -> None:
    attempts: list[list[int]] = []
    outage = threading.Event()

    def handle(batch: Batch[int]) -> None:
        attempts.append(list(batch.items))
        if len(attempts) < 3:
            outage.set()
            raise redis.ConnectionError("redis is away")

    stage = Stage("t", Batcher[int](lambda _: 1, 10, 0.05), handle, lambda i, e: must_not_fail(i, e))
    run_until_idle(stage, [7, 8])
    assert outage.is_set() and stage.healthy
    assert attempts == [[7, 8]] * 3


def must_not_fail(item: int, exc: Exception) -> None:
    raise AssertionError(f"item {item} must not be dead-lettered for a dependency error: {exc}")


def test_due_items_are_answered_while_the_stage_is_busy() -> None:
    busy, expired = threading.Event(), []
    release = threading.Event()
    deadlines = {1: None, 2: time.monotonic() + 0.1, 3: None}

    def handle(batch: Batch[int]) -> None:
        busy.set()
        release.wait(5)

    batcher = Batcher[int](lambda _: 1, 1, 0.0, deadline_of=deadlines.get)
    stage = Stage("t", batcher, handle, lambda i, e: must_not_fail(i, e), expire=expired.extend)
    stage.start()
    stage.submit(1)
    assert busy.wait(5)
    stage.submit(2)
    stage.submit(3)
    time.sleep(0.5)
    assert expired == [2], "the due item is answered although the stage's thread is busy"
    assert stage.pending() == 2
    release.set()
    deadline = time.monotonic() + 5
    while stage.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    stage.stop(1.0)
    assert stage.pending() == 0 and expired == [2]
