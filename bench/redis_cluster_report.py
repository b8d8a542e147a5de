"""`bench.redis_cluster`'s table and plot: the 100-candidate fetch's round trip on one node and on the
cluster (p50, p99, mean), and each failover's recovery.

Ignores how the figures were measured (`bench.redis_cluster`).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import print_rows, save_figure  # noqa: E402


def print_table(result: dict) -> None:
    n = result["candidates"]
    print_rows(
        f"context store: a {n}-candidate fetch, {result['rounds']} rounds, {result['contexts']:,} contexts",
        ("store", "p50 ms", "p99 ms", "mean ms"),
        [(r["store"], f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['mean_ms']:.2f}") for r in result["rows"]],
    )
    ratio = result["cluster_over_node"]
    print(f"cluster / one node: p50 {ratio['p50_ms']}x, p99 {ratio['p99_ms']}x, mean {ratio['mean_ms']}x")
    print_rows(
        f"a master killed (kill -9), its replica promoted (node timeout {result['node_timeout_ms']} ms)",
        ("killed", "recovered s", "failed fetches", "short fetches"),
        [
            (
                str(f["killed_port"]),
                f"{f['recovered_s']:.2f}",
                str(f["failed_fetches"]),
                str(f["short_fetches"]),
            )
            for f in result["failovers"]
        ],
    )


def write_plot(result: dict, path: Path) -> None:
    rows, failovers = result["rows"], result["failovers"]
    fig, (latency, recovery) = plt.subplots(1, 2, figsize=(11, 4))
    x = range(len(rows))
    latency.bar([i - 0.2 for i in x], [r["p50_ms"] for r in rows], width=0.4, label="p50", color="C0")
    latency.bar([i + 0.2 for i in x], [r["p99_ms"] for r in rows], width=0.4, label="p99", color="C1")
    latency.set_xticks(list(x), [r["store"] for r in rows])
    latency.set_ylabel(f"ms per {result['candidates']}-candidate fetch")
    latency.legend()
    k = range(len(failovers))
    recovery.bar(list(k), [f["recovered_s"] for f in failovers], color="C3")
    recovery.set_xticks(list(k), [f"kill {i + 1}" for i in k])
    recovery.set_ylabel("s from kill -9 of a master to a whole fetch")
    fig.suptitle(
        f"rankstream context store: one Redis node vs a local cluster, {result['contexts']:,} contexts, "
        f"{result['machine']['threads']} CPU threads"
    )
    save_figure(fig, path, result["attribution"])
