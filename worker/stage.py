"""A stage: one thread that takes batches from a Batcher and hands them to a handler.

Stages keep slow work (compression, Redis, the model) off the loop thread, which must keep calling
poll(). An infrastructure error the handler raises (Redis or the network being down) is retried with
backoff on the same batch, so no message is lost or skipped while a dependency is away. Any other
error is isolated: the batch is retried item by item, and the item that still fails goes to `fail`
(which dead-letters it), so one bad input never takes its batch-mates down with it.

Given `expire`, a second thread (the watcher) takes queued items out of the batcher as their
deadline comes (`Batcher.take_due`: it sleeps until the earliest deadline) and hands them to
`expire`, so they are answered on time even while the stage's thread is busy with a long batch.
"""

import logging
import threading
from collections.abc import Callable
from typing import Generic

from worker.batch import Batch, Batcher, Item
from worker.redis_client import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

# Errors that mean "a dependency is away", not "this input is bad": retry, never dead-letter.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS, ConnectionError)
BACKOFF_START_S, BACKOFF_MAX_S = 0.1, 5.0
IDLE_WAIT_S = 0.1  # how often an idle stage (and its watcher) checks for stop


class Stage(Generic[Item]):
    def __init__(
        self,
        name: str,
        batcher: Batcher[Item],
        handle: Callable[[Batch[Item]], None],
        fail: Callable[[Item, Exception], None],
        expire: Callable[[list[Item]], None] | None = None,
    ) -> None:
        self.name = name
        self.batcher = batcher
        self.handle = handle
        self.fail = fail
        self.expire = expire
        self.healthy = True  # False while a dependency error is being retried
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"stage-{name}", daemon=True)]
        if expire is not None:
            self._threads.append(threading.Thread(target=self._watch, name=f"watch-{name}", daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, item: Item) -> None:
        with self._lock:
            self._busy += 1
        self.batcher.put(item)

    def discard(self, drop: Callable[[Item], bool]) -> None:
        """Drop queued items that `drop` selects: their partition was revoked or lost."""
        dropped = self.batcher.discard(drop)
        with self._lock:
            self._busy -= dropped

    def pending(self) -> int:
        """Items submitted and not yet handled (queued or in the current batch)."""
        with self._lock:
            return self._busy

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self.batcher.next_batch(IDLE_WAIT_S)
            if batch is not None:
                self._handle_isolated(batch)
                with self._lock:
                    self._busy -= len(batch.items)

    def _watch(self) -> None:
        assert self.expire is not None
        while not self._stop.is_set():
            for item in self.batcher.take_due(IDLE_WAIT_S):
                try:
                    self.expire([item])
                except Exception as exc:
                    log.exception("stage %s: answering an expired item failed", self.name)
                    self.fail(item, exc)
                with self._lock:
                    self._busy -= 1

    def _handle_isolated(self, batch: Batch[Item]) -> None:
        try:
            self._handle_until_done(batch)
        except Exception as exc:
            if len(batch.items) == 1:
                log.exception("stage %s: item failed", self.name)
                self.fail(batch.items[0], exc)
                return
            log.warning("stage %s: batch of %d failed (%s); retrying item by item", self.name, len(batch.items), exc)
            for item in batch.items:
                self._handle_isolated(Batch([item], self.batcher.cost(item), batch.opened_at))

    def _handle_until_done(self, batch: Batch[Item]) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                self.handle(batch)
                self.healthy = True
                return
            except TRANSIENT_ERRORS as exc:
                self.healthy = False
                log.warning("stage %s: dependency error, retrying in %.1fs: %s", self.name, backoff, exc)
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, BACKOFF_MAX_S)
