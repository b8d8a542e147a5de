"""A query's contexts, waiting a bounded time for a context store that does not answer.

`fetch_within(store, job_ids, wait_s)` is `ContextStore.fetch`, tried again with redis-py's
exponential backoff while the store raises `UNAVAILABLE_ERRORS` (one node away, a cluster master
failing over, or lost with no replica to take its slots), for at most `wait_s`
(`RANKSTREAM_REDIS_WAIT_S`). Past that it returns `Fetched.unavailable`: every candidate unscored
`context_store_unavailable`, a reason that names the cause, never `missing_context` (which only a read
of a ready store may say). A failover shorter than the wait only delays the answer.
Ignores other errors: they go up to the stage, which isolates them.
"""

import logging
import time
from collections.abc import Sequence

from redis.backoff import ExponentialBackoff

from compressor import ContextStore, Fetched
from worker.redis_client import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

# The first retry comes soon (a cluster client follows MOVED itself; what reaches us is a node gone,
# whose replica takes a node timeout to be promoted), the later ones at most a second apart: a
# store back is noticed within a second, and a store away costs a few calls a second.
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0


def fetch_within(store: ContextStore, job_ids: Sequence[str], wait_s: float) -> Fetched:
    backoff = ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S)
    give_up_at, failures = time.monotonic() + wait_s, 0
    while True:
        try:
            return store.fetch(job_ids)
        except UNAVAILABLE_ERRORS as exc:
            failures += 1
            left = give_up_at - time.monotonic()
            if left <= 0:
                log.warning("context store away for %.0f s (%s): candidates answered unavailable", wait_s, exc)
                return Fetched.unavailable(len(job_ids))
            time.sleep(min(backoff.compute(failures), left))
