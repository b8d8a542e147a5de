"""What one server can do at a load, simulated: the time in system of queries whose service times
are the engine's own calls, under Poisson arrivals, for `bench.load`'s tail goal.

`sojourns(calls_s, rate, policy, seed)` -> seconds from arrival to answer of `SIMULATED_ARRIVALS`
queries, each drawn from `calls_s`, arriving at `rate` per second, served by one server:
- "fcfs": whole queries, first come first served (Lindley's recursion). This is how the worker
  scores at default settings (a 50-candidate query fills a batch alone); it has the shortest tail of
  the work-conserving orders when service times are light-tailed (Stolyar & Ramanan, 2001).
- "shared": processor sharing, every query in the system served at once at an equal share: the
  limit of cutting each query into ever smaller pieces and interleaving them (the issue's "smaller
  unit of scheduling"), so a short query never waits behind a long one.
Both conserve work: neither makes the server faster, only the order differs.

Ignores batching gains (on this CPU a call of several queries runs no faster per item, `bench.serving`)
and everything but the model (the broker, Redis, the gate).
"""

import heapq
from collections.abc import Sequence
from typing import Literal

import numpy as np

Policy = Literal["fcfs", "shared"]
# Arrivals per simulation: a P99 then rests on 2,000 answers (its run-to-run spread ~2%).
SIMULATED_ARRIVALS = 200_000


def sojourns(calls_s: Sequence[float], rate: float, policy: Policy, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    service = rng.choice(np.asarray(calls_s, dtype=float), SIMULATED_ARRIVALS)
    arrivals = np.cumsum(rng.exponential(1 / rate, SIMULATED_ARRIVALS))
    return _fcfs(arrivals, service) if policy == "fcfs" else _shared(arrivals, service)


def _fcfs(arrivals: np.ndarray, service: np.ndarray) -> np.ndarray:
    done, out = 0.0, np.empty_like(service)
    for i, (arrived, needs) in enumerate(zip(arrivals, service, strict=True)):
        done = max(done, arrived) + needs  # starts when it arrives or when the one before is done
        out[i] = done - arrived
    return out


def _shared(arrivals: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Processor sharing on a virtual clock `v` (service each present query has had): a query arriving
    at v leaves at v + its service; v advances at 1 / (queries present) per second."""
    out = np.empty_like(service)
    present: list[tuple[float, int]] = []  # (virtual time it leaves, index)
    now = v = 0.0
    for i in [*range(len(arrivals)), -1]:
        until = arrivals[i] if i >= 0 else np.inf
        while present and now + (present[0][0] - v) * len(present) <= until:
            leaves, j = heapq.heappop(present)
            now, v = now + (leaves - v) * (len(present) + 1), leaves
            out[j] = now - arrivals[j]
        if i < 0:
            break
        if present:
            v += (until - now) / len(present)
        now = until
        heapq.heappush(present, (v + service[i], i))
    return out
