"""`bench.load`'s summaries and tables: RSS by phase, the pipeline against the engine alone and the goals.

`rss_phases(samples)`: for each phase in order, the worker's RSS (MB) at its first and last sample,
growth in % between them and the maximum (a phase shorter than a sample interval has none).
`soak_trend(samples, soak)`: the soak's RSS growth over 10 minutes, from a least-squares line
through its samples after `SOAK_WARMUP_S` (RSS swings by the working set of each engine call, so
two single samples, one idle and one mid-call, would measure the swing, not the trend).
`versus_engine(engine, rows, rss, trend, half)`: each measure the issue sets a goal for, its value,
the goal and whether it is met (None when not measured): pipeline items/s at its maximum over the
engine's; P99 at half load over the engine's mean ms per query and, beside it, that of one server
of the engine's own calls at that load, simulated (`bench.load_queue`: whole queries first come first
served, and interleaved); the soak's RSS trend; the maximum RSS. `print_tables(result)`: the phases,
then the measures.

Ignores how anything was measured (`bench.load`, `bench.load_traffic`, `bench.load_stack`).
"""

from collections.abc import Sequence
from itertools import groupby

import numpy as np

from bench.load_queue import Policy, sojourns
from bench.load_stack import RssSample
from bench.load_traffic import PERCENTILES
from bench.runner import print_rows

# The goals: the pipeline keeps 90% of the engine's throughput, its P99 at half load stays
# within two scoring times, and RSS grows at most 5% over a 10-minute soak at 80%, within 2 GB.
GOAL_ITEMS_RATIO = 0.90
GOAL_P99_RATIO = 2.0
GOAL_SOAK_GROWTH_PCT = 5.0
GOAL_RSS_MB = 2048.0
# The simulated servers beside the measured tail (`bench.load_queue`), as the table names them.
POLICIES: dict[Policy, str] = {"fcfs": "whole queries, first come first served", "shared": "queries interleaved"}
# The soak's first minute is left out of its trend: the prefix cache fills and the allocator settles.
SOAK_WARMUP_S = 60.0
SOAK_SPAN_S = 600.0  # the goal's 10 minutes


def rss_phases(samples: Sequence[RssSample]) -> list[dict]:
    phases = []
    for name, group in groupby(samples, key=lambda s: s.phase):
        mb = [s.mb for s in group]
        growth = round(100 * (mb[-1] / mb[0] - 1), 1)
        phases.append({"phase": name, "start_mb": mb[0], "end_mb": mb[-1], "growth_pct": growth, "max_mb": max(mb)})
    return phases


def soak_trend(samples: Sequence[RssSample], soak: str | None) -> float | None:
    """The soak's RSS growth in % per `SOAK_SPAN_S`, after its warm-up; None without a soak."""
    points = [s for s in samples if s.phase == soak]
    if not points:
        return None
    settled = [s for s in points if s.seconds >= points[0].seconds + SOAK_WARMUP_S]
    settled = settled if len(settled) > 1 else points  # a soak shorter than its warm-up is fitted whole
    if len(settled) < 2:
        return None
    slope, start = np.polyfit([s.seconds for s in settled], [s.mb for s in settled], 1)
    return round(float(100 * slope * SOAK_SPAN_S / (start + slope * settled[0].seconds)), 1)


def simulated_p99_ms(calls_s: Sequence[float], rate: float, policy: Policy) -> float:
    return float(1e3 * np.percentile(sojourns(calls_s, rate, policy), 99))


def _ratio(numerator: float | None, denominator: float) -> float | None:
    return None if numerator is None else round(numerator / denominator, 3)


def _check(measure: str, value: float | None, goal: float, at_most: bool) -> dict:
    met = None if value is None else (value <= goal if at_most else value >= goal)
    return {"measure": measure, "value": value, "goal": f"{'<=' if at_most else '>='} {goal:g}", "met": met}


def versus_engine(
    engine: dict, rows: Sequence[dict], rss: Sequence[dict], trend: float | None, half: str
) -> list[dict]:
    by_phase = {r["phase"]: r for r in rows}
    items = _ratio(by_phase["max"]["items_per_s"], engine["items_per_s"])
    p99 = _ratio(by_phase[half]["p99_ms"], engine["query_mean_ms"])
    rate, mean_ms = by_phase[half]["target_qps"], engine["query_mean_ms"]
    simulated = {policy: _ratio(simulated_p99_ms(engine["call_s"], rate, policy), mean_ms) for policy in POLICIES}
    top = max((p["max_mb"] for p in rss), default=None)
    return [
        _check("pipeline items/s at its maximum / engine's", items, GOAL_ITEMS_RATIO, at_most=False),
        _check(f"P99 at {half} load / engine's mean ms per query", p99, GOAL_P99_RATIO, at_most=True),
        *(
            _check(f"  the same, one server simulated: {POLICIES[p]}", simulated[p], GOAL_P99_RATIO, at_most=True)
            for p in POLICIES
        ),
        _check("soak RSS trend, % per 10 min after 1 min", trend, GOAL_SOAK_GROWTH_PCT, at_most=True),
        _check("max RSS MB", top, GOAL_RSS_MB, at_most=True),
    ]


def _cell(value: object, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def _phase_cells(row: dict, rss: dict | None) -> tuple[str, ...]:
    counts = (row["sent"], row["answered"], row["lost"], row["degraded"])
    latency = tuple(_cell(row[f"p{p}_ms"], ".0f") for p in PERCENTILES)
    on_time = _cell(row.get("within_deadline"), ".1%")
    memory = ("-", "-") if rss is None else (f"{rss['start_mb']:.0f} -> {rss['end_mb']:.0f}", f"{rss['growth_pct']}%")
    speed = (_cell(row["results_per_s"], ".2f"), _cell(row["items_per_s"], ".0f"))
    return (row["phase"], _cell(row["target_qps"], ".2f"), *map(str, counts), *speed, *latency, on_time, *memory)


def print_tables(result: dict) -> None:
    rss = {p["phase"]: p for p in result["rss"]}
    columns = ("phase", "target q/s", "sent", "answered", "lost", "degraded", "results/s", "items/s")
    columns += ("P50 ms", "P95 ms", "P99 ms", "on time", "RSS MB", "RSS growth")
    title = f"sustained load: one worker, {result['queries']} O*NET test queries x BM25 top 50, cycled"
    print_rows(title, columns, [_phase_cells(r, rss.get(r["phase"])) for r in result["rows"]])
    engine = result["engine"]
    checks = [(c["measure"], _cell(c["value"]), c["goal"], _cell(c["met"])) for c in result["versus_engine"]]
    title = (
        f"versus the engine alone ({engine['queries']} queries, one per call): "
        f"{engine['items_per_s']} items/s, {engine['query_mean_ms']} ms per query"
    )
    print_rows(title, ("measure", "value", "goal", "met"), checks)
