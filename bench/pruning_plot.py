"""The pruning benchmark's plot: NDCG@10 (test and unseen) against the speedup over the unpruned model
(items/s with no prefix cache, each against the unpruned model's measured beside it), one point per row,
coloured by method, shaped by recovery.

Ignores how the numbers were measured (`bench.pruning`).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import save_figure  # noqa: E402

COLORS = {"magnitude": "C3", "layer-drop": "C2", "osscar": "C0", "osscar-heads": "C1", None: "k"}
MARKERS = {"none": "o", "sft": "s", "distill": "^", None: "*"}
SPLITS = ("test", "unseen")


def write_plot(result: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, len(SPLITS), figsize=(13, 5), sharex=True)
    rows = result["rows"]
    for axis, split in zip(axes, SPLITS, strict=True):
        for row in rows:
            color, marker = COLORS.get(row["method"], "k"), MARKERS.get(row["recovery"], "*")
            point = (row["speedup_vs_unpruned"], row[f"ndcg@10_{split}"])
            axis.scatter(*point, color=color, marker=marker, s=50)
            axis.annotate(f"{row['variant']}\n{row['non_embedding_parameters_m']:.0f}M", point, fontsize=6)
        axis.set_xlabel("speedup over the unpruned model: items/s with no prefix cache, best of 3")
        axis.set_ylabel(f"NDCG@10, {rows[0][f'queries_{split}']} {split} queries x BM25's top 50")
    for method, color in COLORS.items():
        axes[0].scatter([], [], color=color, label=method or "unpruned")
    for recovery, marker in MARKERS.items():
        if recovery is not None:
            axes[0].scatter([], [], color="grey", marker=marker, label=f"recovery: {recovery}")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"rankstream pruning: method x share kept x recovery, {result['machine']['threads']} CPU threads")
    save_figure(fig, path, result["attribution"])
