"""Consumer lag per partition, from librdkafka's statistics: what the group has left to commit.

`ConsumerLag.update(stats_json)` (the consumer's `stats_cb`, on the loop thread) keeps, for each
partition this consumer owns, the messages between the group's committed position and the end of
the log: the last stable offset (what a `read_committed` consumer can read; the high watermark where
the broker reports none), minus the committed offset, or minus the log start while nothing is
committed (the worker reads from the earliest). `readings()` returns the latest figures for the
gauge, read at scrape time from another thread. Partitions the consumer does not own (librdkafka's
`desired` false) or whose offsets are not known yet are left out, so a revoked partition's series
goes away and an idle, fully committed one reads 0.
"""

import json
import threading
from typing import Any

Lag = dict[tuple[str, int], int]


def _end(partition: dict[str, Any]) -> int:
    stable = partition.get("ls_offset", -1)
    return stable if stable >= 0 else partition.get("hi_offset", -1)


def _start(partition: dict[str, Any]) -> int:
    committed = partition.get("committed_offset", -1)
    return committed if committed >= 0 else partition.get("lo_offset", -1)


def lag_of(stats: dict[str, Any]) -> Lag:
    """Lag of each owned partition with known offsets, from one statistics object."""
    lag: Lag = {}
    for topic, topic_stats in stats.get("topics", {}).items():
        for number, partition in topic_stats.get("partitions", {}).items():
            end, start = _end(partition), _start(partition)
            if int(number) >= 0 and partition.get("desired") and end >= 0 and start >= 0:
                lag[(topic, int(number))] = max(0, end - start)
    return lag


class ConsumerLag:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lag: Lag = {}

    def update(self, stats_json: str) -> None:
        lag = lag_of(json.loads(stats_json))
        with self._lock:
            self._lag = lag

    def readings(self) -> Lag:
        with self._lock:
            return dict(self._lag)
