"""One engine under Poisson load, simulated on measured batch times (`bench.gpu_speed` measures them).

`under_load(service, load, items)`: seeded arrivals at `load` x the capacity the samples imply
(the largest batch size over its median time); `simulate` serves them with one engine that, when
free, takes every request that has arrived (at most the largest measured batch) as one batch, whose
time is drawn from the samples for its size. Per-request latency = queueing + service: P50, P99.

Ignores the worker's batching linger, deadlines and everything around the engine.
"""

import numpy as np

ARRIVALS = 20_000  # simulated requests per load: ~200 beyond the P99, so it is not one outlier
SEED = 0


def under_load(service: dict[int, list[float]], load: float, items: int) -> dict:
    """P50 and P99 (ms) at `load` x capacity; `items` per request turns requests/s into items/s."""
    most = max(service)
    capacity = most / float(np.median(service[most]))  # requests/s with every batch full
    latencies = simulate(service, load * capacity, ARRIVALS, np.random.default_rng(SEED))
    return {
        "load": load,
        "offered_items_per_s": load * capacity * items,
        "p50_ms": float(np.percentile(latencies, 50)) * 1000,
        "p99_ms": float(np.percentile(latencies, 99)) * 1000,
    }


def simulate(service: dict[int, list[float]], rate: float, arrivals: int, rng: np.random.Generator) -> np.ndarray:
    """Per-request latency (s) of Poisson arrivals at `rate` requests/s on one engine (module docstring)."""
    times = np.cumsum(rng.exponential(1 / rate, arrivals))
    latencies = np.empty(arrivals)
    free, i, most = 0.0, 0, max(service)
    while i < arrivals:
        start = max(free, times[i])
        j = min(int(np.searchsorted(times, start, side="right")), i + most)
        samples = service[j - i]
        free = start + samples[int(rng.integers(len(samples)))]
        latencies[i:j] = free - times[i:j]
        i = j
    return latencies
