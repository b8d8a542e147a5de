"""The pruning benchmark's plot: NDCG@10 against compute speed (items/s), one point per variant, by method.

Ignores how the numbers were measured (`bench.pruning`).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import save_figure  # noqa: E402

MARKERS = {"osscar": ("C0", "o"), "magnitude": ("C3", "s"), None: ("k", "*")}


def write_plot(result: dict, path: Path) -> None:
    fig, axis = plt.subplots(figsize=(8, 5))
    for row in result["rows"]:
        color, marker = MARKERS.get(row["method"], MARKERS[None])
        axis.scatter(row["items_per_s"], row["ndcg@10"], color=color, marker=marker, s=60)
        axis.annotate(f"{row['variant']}\n{row['parameters_m']:.0f}M", (row["items_per_s"], row["ndcg@10"]), fontsize=7)
    axis.set_xlabel("items/s (query, posting pairs) with no prefix cache, best of 3")
    axis.set_ylabel("NDCG@10 over BM25's top 50")
    axis.set_title(
        f"rankstream MLP pruning: {result['queries']} O*NET test queries, {result['machine']['threads']} CPU threads"
    )
    save_figure(fig, path, result["attribution"])
