"""`bench.load`'s plot: end-to-end latency percentiles against load, and the worker's RSS over the run.

Left: P50/P95/P99 of each Poisson phase at its share of the measured maximum (the deadline phase
and the soak as separate markers), beside the engine's mean ms per query alone. Right: RSS (MB) every second and
the prefix cache's share, each phase a shaded span with its name. Ignores how the numbers were measured (`bench.load`).
"""

from itertools import groupby
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from bench.load_traffic import PERCENTILES  # noqa: E402
from bench.runner import save_figure  # noqa: E402


def _latency(axis: Axes, result: dict) -> None:
    top = next(r["results_per_s"] for r in result["rows"] if r["phase"] == "max")
    steady = [r for r in result["rows"] if r["target_qps"] and "deadline_ms" not in r and r["p50_ms"]]
    soak = [r for r in steady if r["phase"].startswith("soak")]  # at a load already drawn: its own markers
    steady = [r for r in steady if r not in soak]
    deadline = [r for r in result["rows"] if "deadline_ms" in r and r["p50_ms"]]
    for i, p in enumerate(PERCENTILES):
        loads = [100 * r["target_qps"] / top for r in steady]
        axis.plot(loads, [r[f"p{p}_ms"] for r in steady], "o-", color=f"C{i}", label=f"P{p}")
        loads = [100 * r["target_qps"] / top for r in deadline]
        label = f"P{p}, deadline {deadline[0]['deadline_ms']} ms" if deadline else None
        axis.plot(loads, [r[f"p{p}_ms"] for r in deadline], "x", color=f"C{i}", markersize=10, label=label)
        loads = [100 * r["target_qps"] / top for r in soak]
        axis.plot(
            loads,
            [r[f"p{p}_ms"] for r in soak],
            "s",
            color=f"C{i}",
            fillstyle="none",
            label=f"P{p}, soak" if soak else None,
        )
    axis.axhline(result["engine"]["query_mean_ms"], color="grey", linestyle="--", label="engine alone, mean per query")
    axis.set_yscale("log")
    axis.set_xlabel("offered load (% of the measured maximum)")
    axis.set_ylabel("produce -> result read (ms)")
    axis.legend(fontsize=7)


def _rss(axis: Axes, result: dict) -> None:
    samples = result["rss_samples"]
    axis.plot([s[0] for s in samples], [s[2] for s in samples], color="C0", label="RSS")
    cached = [s for s in samples if s[3] is not None]
    axis.plot([s[0] for s in cached], [s[3] for s in cached], color="C1", label="of which prefix cache")
    for i, (name, group) in enumerate(groupby(samples, key=lambda s: s[1])):
        times = [s[0] for s in group]
        axis.axvspan(times[0], times[-1], color=f"C{i % 10}", alpha=0.12)
        axis.text(times[0], 1.0, name, transform=axis.get_xaxis_transform(), fontsize=6, rotation=90, va="top")
    axis.set_xlabel("seconds since the worker started")
    axis.set_ylabel("worker (MB)")
    axis.legend(fontsize=7, loc="lower right")


def write_plot(result: dict, path: Path) -> None:
    fig, (latency, rss) = plt.subplots(1, 2, figsize=(12, 4.5))
    _latency(latency, result)
    _rss(rss, result)
    fig.suptitle(
        f"rankstream under load: one worker, {result['queries']} O*NET test queries x BM25 top 50, "
        f"{result['machine']['threads']} CPU threads"
    )
    save_figure(fig, path, result["attribution"])
