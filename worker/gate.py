"""The table gate: a query waits, in front of the queries stage, until the postings table has caught
up to it (Kafka Streams' stream–table join: a query sees the postings sent before it).

The loop submits queries to the gate as it would to the stage (`submit`, `discard`, `pending`, `start`,
`stop`). The gate's own thread reads the table (`read_table`: `worker.table.TableView.read`, given how
recent the partitions' ends must be; it raises while Redis is away) as soon as a query arrives, then
every `GATE_TICK_S` while queries wait; idle, it sleeps (woken by `submit`), reading the table every
`IDLE_READ_S` so the store's state stays current for gauges. Per waiting query, in this order:
  1. its deadline (`PendingQuery.deadline`) has come: answered degraded by `expire`, as the stage's
     watcher would (`rankstream_table_waits_total{outcome="deadline"}`);
  2. the table has caught up to its Kafka timestamp (`Table.caught_up`): submitted to the stage
     (`outcome="caught_up"`);
  3. it has waited `wait_s` (`RANKSTREAM_TABLE_WAIT_MS`): submitted with `table_behind`, so its
     result says so (`outcome="timed_out"`).
The scoring stage's thread never waits here: queries already let through keep being scored. While
Redis cannot be read, no query is let through as caught up; each waits out its time. `pending()`
counts waiting queries with the stage's, and `discard` drops a revoked or lost partition's from both.
Ignores what a query asks for: only its timestamp and deadline matter here.
"""

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from worker.score import PendingQuery
from worker.stage import Stage
from worker.table import END_AFTER_MS, Table
from worker.telemetry import Metrics, TableWaitOutcome

log = logging.getLogger(__name__)

# How often waiting queries are looked at: a caught-up query waits at most this much more, and a
# waiting worker reads Redis (one MULTI) about this often. Only while queries wait: an idle gate
# sleeps, since frequent wake-ups of a Python thread stall the model's threads.
GATE_TICK_S = 0.01
# With no query waiting, the table is still read this often: a wiped store shows on the gauge within
# a second.
IDLE_READ_S = 1.0


@dataclasses.dataclass(frozen=True)
class Held:
    pending: PendingQuery
    until: float  # time.monotonic() when its wait runs out

    @property
    def timestamp_ms(self) -> int:
        return int(self.pending.source.timestamp.timestamp() * 1e3)


class TableGate:
    def __init__(
        self,
        stage: Stage[PendingQuery],
        read_table: Callable[[int], Table],
        wait_s: float,
        expire: Callable[[list[PendingQuery]], None],
        metrics: Metrics,
    ) -> None:
        self.stage = stage
        self.name = stage.name
        self.read_table = read_table
        self.wait_s = wait_s
        self.expire = expire
        self.metrics = metrics
        self._held: list[Held] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # notified by `submit`, and at stop
        self._stop = threading.Event()
        self._read_at = -float("inf")
        self._unreadable = False  # logged once per outage, not every tick
        self._thread = threading.Thread(target=self._run, name=f"gate-{stage.name}", daemon=True)

    @property
    def healthy(self) -> bool:
        return self.stage.healthy

    def start(self) -> None:
        self.stage.start()
        self._thread.start()

    def submit(self, pending: PendingQuery) -> None:
        with self._lock:
            self._held.append(Held(pending, time.monotonic() + self.wait_s))
            self._arrived.notify()

    def discard(self, drop: Callable[[PendingQuery], bool]) -> None:
        """Drop waiting and queued queries that `drop` selects: their partition was revoked or lost."""
        with self._lock:
            self._held = [h for h in self._held if not drop(h.pending)]
        self.stage.discard(drop)

    def pending(self) -> int:
        """Queries waiting here, plus the stage's (queued or in its current batch)."""
        with self._lock:
            return len(self._held) + self.stage.pending()

    def waiting(self) -> int:
        with self._lock:
            return len(self._held)

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        with self._lock:
            self._arrived.notify()
        self._thread.join(timeout_s)
        self.stage.stop(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._held:
                    self._arrived.wait(max(0.0, self._read_at + IDLE_READ_S - time.monotonic()))
            if self._stop.is_set():
                return
            try:
                self._tick(self._read())
            except Exception:  # the gate must outlive any one pass, or every query would wait forever
                log.exception("gate %s: a pass over the waiting queries failed", self.name)
            if self.waiting():
                self._stop.wait(GATE_TICK_S)

    def _read(self) -> Table | None:
        self._read_at = time.monotonic()
        try:
            table = self.read_table(self._ends_from_ms())
        except Exception as exc:  # Redis away: nothing is let through as caught up meanwhile
            if not self._unreadable:
                log.warning("gate %s: the postings table cannot be read (queries wait it out): %s", self.name, exc)
            self._unreadable = True
            return None
        if self._unreadable:
            log.info("gate %s: the postings table can be read again", self.name)
        self._unreadable = False
        return table

    def _ends_from_ms(self) -> int:
        """How recent the partitions' ends must be: read late enough for every waiting query whose
        timestamp is far enough behind to be served by a reading now (0: any reading will do)."""
        now_ms = int(time.time() * 1e3)
        with self._lock:
            wanted = [h.timestamp_ms + END_AFTER_MS for h in self._held]
        return max((w for w in wanted if w <= now_ms), default=0)

    def _tick(self, table: Table | None) -> None:
        """One pass over the waiting queries (steps in the module docstring)."""
        now = time.monotonic()
        due: list[PendingQuery] = []
        with self._lock:
            waiting: list[Held] = []
            for held in self._held:
                pending = held.pending
                if pending.deadline is not None and pending.deadline <= now:
                    due.append(pending)
                elif table is not None and table.caught_up(held.timestamp_ms):
                    self._let_through(pending, "caught_up")
                elif now >= held.until:
                    self._let_through(dataclasses.replace(pending, table_behind=True), "timed_out")
                else:
                    waiting.append(held)
            self._held = waiting
        for pending in due:
            self.metrics.table_waits.add(1, {"outcome": "deadline"})
            try:
                self.expire([pending])
            except Exception as exc:
                log.exception("gate %s: answering an expired query failed", self.name)
                self.stage.fail(pending, exc)

    def _let_through(self, pending: PendingQuery, outcome: TableWaitOutcome) -> None:
        """To the stage, under the gate's lock, so `pending()` never misses it in between."""
        self.metrics.table_waits.add(1, {"outcome": outcome})
        self.stage.submit(pending)
