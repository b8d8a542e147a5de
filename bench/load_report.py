"""`bench.load`'s summaries and tables: RSS by phase, the pipeline against the engine alone and the goals.

`rss_phases(samples)`: for each phase in order, the worker's RSS (MB) at its first and last sample,
growth in % between them and the maximum (a phase shorter than a sample interval has none).
`versus_engine(engine, rows, rss, half, soak)`: each measure the issue sets a goal for, its value,
the goal and whether it is met (None when not measured): pipeline items/s at its maximum over the
engine's, P99 at half load over the engine's mean ms per query, the soak's RSS growth, the maximum
RSS. `print_tables(result)`: the phases, then the measures.

Ignores how anything was measured (`bench.load`, `bench.load_traffic`, `bench.load_stack`).
"""

from collections.abc import Sequence
from itertools import groupby

from bench.load_stack import RssSample
from bench.load_traffic import PERCENTILES
from bench.runner import print_rows

# The goals: the pipeline keeps 90% of the engine's throughput, its P99 at half load stays
# within two scoring times, and RSS grows at most 5% over a 10-minute soak at 80%, within 2 GB.
GOAL_ITEMS_RATIO = 0.90
GOAL_P99_RATIO = 2.0
GOAL_SOAK_GROWTH_PCT = 5.0
GOAL_RSS_MB = 2048.0


def rss_phases(samples: Sequence[RssSample]) -> list[dict]:
    phases = []
    for name, group in groupby(samples, key=lambda s: s.phase):
        mb = [s.mb for s in group]
        growth = round(100 * (mb[-1] / mb[0] - 1), 1)
        phases.append({"phase": name, "start_mb": mb[0], "end_mb": mb[-1], "growth_pct": growth, "max_mb": max(mb)})
    return phases


def _ratio(numerator: float | None, denominator: float) -> float | None:
    return None if numerator is None else round(numerator / denominator, 3)


def _check(measure: str, value: float | None, goal: float, at_most: bool) -> dict:
    met = None if value is None else (value <= goal if at_most else value >= goal)
    return {"measure": measure, "value": value, "goal": f"{'<=' if at_most else '>='} {goal:g}", "met": met}


def versus_engine(engine: dict, rows: Sequence[dict], rss: Sequence[dict], half: str, soak: str | None) -> list[dict]:
    by_phase = {r["phase"]: r for r in rows}
    items = _ratio(by_phase["max"]["items_per_s"], engine["items_per_s"])
    p99 = _ratio(by_phase[half]["p99_ms"], engine["query_mean_ms"])
    growth = next((p["growth_pct"] for p in rss if p["phase"] == soak), None)
    top = max((p["max_mb"] for p in rss), default=None)
    return [
        _check("pipeline items/s at its maximum / engine's", items, GOAL_ITEMS_RATIO, at_most=False),
        _check(f"P99 at {half} load / engine's mean ms per query", p99, GOAL_P99_RATIO, at_most=True),
        _check("soak RSS growth %", growth, GOAL_SOAK_GROWTH_PCT, at_most=True),
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
