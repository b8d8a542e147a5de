"""The serving benchmark's plot: items/s and per-call P99 latency for each prefix-cache setting.

Ignores how the numbers were measured (`bench.serving`).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import save_figure  # noqa: E402


def label(row: dict) -> str:
    cache = f"{row['prefix_cache_mb']} MB" if row["prefix_cache_mb"] else "off"
    return f"{cache}\n2nd pass" if row["second_pass"] else cache


def write_plot(result: dict, path: Path) -> None:
    rows = result["rows"]
    labels = [label(r) for r in rows]
    fig, (speed, latency) = plt.subplots(1, 2, figsize=(11, 4))
    speed.bar(range(len(rows)), [r["items_per_s"] for r in rows], color="C0")
    speed.set_ylabel("items/s (query, posting pairs)")
    latency.bar(range(len(rows)), [r["call_p99_ms"] for r in rows], color="C1", label="P99")
    latency.bar(range(len(rows)), [r["call_p50_ms"] for r in rows], color="C2", label="P50")
    latency.set_ylabel("ms per call (one query, its candidates)")
    latency.legend()
    for axis in (speed, latency):
        axis.set_xticks(range(len(rows)), labels)
        axis.set_xlabel("prefix cache (runs in order)")
    fig.suptitle(
        f"rankstream serving: {result['queries']} O*NET test queries, {rows[0]['items']} (query, posting) pairs, "
        f"{result['machine']['threads']} CPU threads"
    )
    save_figure(fig, path, result["attribution"])
