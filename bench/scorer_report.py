"""The scorer benchmark's verdicts and outputs: best rows, targets, table, plot (`bench.runner` writes the JSON).

`summarize` picks each engine variant's best token budget per model and item length, adds the
speedup over the naive row and the fraction of the matmul peak (of the row's dtype), and checks the
issue's targets: >= 3.5x the naive items/s, >= 65% of the bf16 peak (SmolLM2, compressed items),
peak RSS <= 1.5 GB (SmolLM2, fresh process), and in bf16 a Spearman > 0.99 per request between
multi-item and pairwise scores. How bf16 ranks against the naive fp32 scores is reported beside it.
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import print_rows  # noqa: E402

TARGET_SPEEDUP = 3.5
TARGET_PEAK_FRACTION = 0.65
TARGET_RSS_MB = 1536
TARGET_SPEARMAN = 0.99
TARGET_MODEL = "smollm2-135m"


def _best(rows: list[dict], variant: str) -> dict:
    return max((r for r in rows if r["variant"] == variant), key=lambda r: r["items_per_s"])


def _best_rows(result: dict) -> list[dict]:
    """The naive row, then each engine variant at its best budget."""
    variants = dict.fromkeys(r["variant"] for r in result["rows"])
    return [_best(result["rows"], v) for v in variants]


def summarize(results: dict) -> dict:
    """Add speedups, peak fractions, the best rows and the target verdicts to `results`."""
    peaks = results["peak_flops"]
    for kinds in results["models"].values():
        for result in kinds.values():
            naive = result["rows"][0]
            for row in result["rows"]:
                row["speedup_vs_naive"] = row["items_per_s"] / naive["items_per_s"]
                row["fraction_of_peak"] = row["useful_flops_per_s"] / peaks[row["dtype"]]
            result["best_budget"] = {r["variant"]: r["budget"] for r in _best_rows(result)}
    results["targets"] = _targets(results)
    return results


def _targets(results: dict) -> dict:
    model = results["models"].get(TARGET_MODEL, {})
    best = [r for result in model.values() for r in _best_rows(result)[1:]]
    compressed = model.get("compressed")
    multi = max((r for r in compressed["rows"] if r["mode"] == "multi-item"), key=_speed) if compressed else None
    checked = [r["min_spearman_vs_pairwise"] for r in best if r["mode"] == "multi-item"]
    return {
        "speedup_vs_naive": {
            f"{name}/{kind}": max(r["speedup_vs_naive"] for r in result["rows"])
            for name, kinds in results["models"].items()
            for kind, result in kinds.items()
        },
        "speedup_target": TARGET_SPEEDUP,
        "smollm2_compressed_fraction_of_bf16_peak": multi["fraction_of_peak"] if multi else None,
        "peak_fraction_target": TARGET_PEAK_FRACTION,
        "smollm2_multi_item_peak_rss_mb_fresh_process": max(
            (result.get("fresh_process_rss_mb", 0.0) for result in model.values()), default=None
        ),
        "smollm2_engine_peak_rss_mb_in_process": max((r["peak_rss_mb"] for r in best), default=None),
        "rss_target_mb": TARGET_RSS_MB,
        "smollm2_bf16_min_spearman_multi_item_vs_pairwise": min((s for s in checked if s is not None), default=None),
        "spearman_target": TARGET_SPEARMAN,
        "smollm2_bf16_min_spearman_vs_naive_fp32": min((r["min_spearman_vs_naive"] for r in best), default=None),
    }


def _speed(row: dict) -> float:
    return row["items_per_s"]


def _table_rows(results: dict) -> list[tuple[str, ...]]:
    lines = []
    for name, kinds in results["models"].items():
        for kind, result in kinds.items():
            items = f"{kind} ({result['useful_tokens'] // result['items']} tok/item)"
            lines += [(name, items, *_cells(r)) for r in _best_rows(result)]
    return lines


def _cells(r: dict) -> tuple[str, ...]:
    return (
        r["variant"],
        str(r["budget"]),
        r["dtype"],
        f"{r['items_per_s']:.1f}",
        f"{r['speedup_vs_naive']:.2f}x",
        f"{r['useful_flops_per_s'] / 1e9:.0f}",
        f"{100 * r['fraction_of_peak']:.0f}%",
        f"{r['peak_rss_mb']:.0f}",
        f"{r['min_spearman_vs_naive']:.3f}",
        "-" if r["min_spearman_vs_pairwise"] is None else f"{r['min_spearman_vs_pairwise']:.3f}",
    )


# "budget" is the token budget, or the naive row's padded batch size.
HEADER = (
    "model",
    "items",
    "row",
    "budget",
    "dtype",
    "items/s",
    "vs naive",
    "useful GFLOP/s",
    "of peak",
    "peak RSS MB",
    "Spearman vs naive",
    "vs pairwise",
)


def print_table(results: dict) -> None:
    print_rows("scoring engine vs naive baseline, each row at its best budget", HEADER, _table_rows(results), left=3)
    peaks = results["peak_flops"]
    print(
        f"\nmatmul peak: bf16 {peaks['bfloat16'] / 1e9:.0f} GFLOP/s, fp32 {peaks['float32'] / 1e9:.0f} GFLOP/s "
        f"({results['machine']['threads']} threads, {results['machine']['cpu']})"
    )
    print("targets:", json.dumps(results["targets"], indent=1))
    print(results["attribution"])


def write_plot(results: dict, path: Path) -> None:
    """Left: each variant's best speedup over naive, per model and item length (log scale).
    Right: useful FLOPs as % of the bf16 peak against the token budget (the tiny model, all
    overhead, is left out); color = model and items, line style = variant."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5))
    groups = [
        (f"{name}\n{kind}", result) for name, kinds in results["models"].items() for kind, result in kinds.items()
    ]
    variants = list(dict.fromkeys(r["variant"] for _, result in groups for r in result["rows"][1:]))
    width = 0.8 / len(variants)
    for k, variant in enumerate(variants):
        bars = [
            (i, _best(result["rows"], variant)["speedup_vs_naive"])
            for i, (_, result) in enumerate(groups)
            if any(r["variant"] == variant for r in result["rows"])
        ]
        left.bar([i - 0.4 + width * (k + 0.5) for i, _ in bars], [v for _, v in bars], width=width, label=variant)
    left.axhline(TARGET_SPEEDUP, color="k", linestyle="--", linewidth=1, label=f"target {TARGET_SPEEDUP}x")
    left.set_yscale("log")
    left.set_xticks(range(len(groups)), [label for label, _ in groups], fontsize=7, rotation=20, ha="right")
    left.set_ylabel("items/s vs naive fp32 baseline")
    left.legend(fontsize=8)
    styles = dict(zip(variants, ("--", "-", ":"), strict=False))
    for color, (label, result) in enumerate(g for g in groups if not g[0].startswith("tiny")):
        for variant in variants:
            rows = [r for r in result["rows"] if r["variant"] == variant]
            right.plot(
                [r["budget"] for r in rows],
                [100 * r["fraction_of_peak"] for r in rows],
                styles.get(variant, "-"),
                color=f"C{color}",
                marker="o",
                label=f"{label.replace(chr(10), ' ')}: {variant}",
            )
    right.axhline(100 * TARGET_PEAK_FRACTION, color="k", linestyle="-.", linewidth=1, label="target 65%")
    right.set_xscale("log", base=2)
    right.set_xlabel("token budget per batch")
    right.set_ylabel("useful FLOPs, % of bf16 matmul peak")
    right.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"rankstream scoring engine, {results['machine']['threads']} CPU threads")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
