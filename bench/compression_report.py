"""How `bench.compression` shows its results: the targets' verdicts, a table with them, and a 2x2 plot
(`bench.runner` prints the table and writes the JSON).

Every output carries the attribution of the data it was derived from (LinkedIn postings CC BY-SA
4.0, SkillSpan MIT, O*NET 27.0 CC BY 4.0). Ignores how the numbers were measured.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import print_rows  # noqa: E402

# The targets.
MIN_MEDIAN_REDUCTION = 8.0
MIN_RECALL_OVER_HEAD = 2.0
MIN_EXTRACTIVE_PER_CPU_SECOND = 500.0


def targets(results: dict) -> dict[str, bool]:
    budget = results["config"]["budget_tokens"]
    recall = results["skill_recall"]
    return {
        "median reduction ≥ 8x": results["token_reduction"][f"extractive@{budget}"]["median_ratio"]
        >= MIN_MEDIAN_REDUCTION,
        "extractive recall ≥ 2x head": recall["extractive"] >= MIN_RECALL_OVER_HEAD * recall["head"],
        "extractive ≥ 500 postings/s/core": results["speed"]["extractive"]["per_cpu_second"]
        >= MIN_EXTRACTIVE_PER_CPU_SECOND,
    }


def _rows(results: dict) -> list[tuple[str, str, str]]:
    red, rec, rank, speed = (results[k] for k in ("token_reduction", "skill_recall", "ranking", "speed"))
    rows = [
        (
            f"token reduction, {name}",
            f"median {r['median_ratio']:.1f}x · p90 {r['p90_ratio']:.1f}x",
            f"{r['postings']} LinkedIn, {r['mean_full_tokens']:.0f} → {r['mean_compressed_tokens']:.0f} tokens",
        )
        for name, r in red.items()
    ]
    rows += [
        ("skill recall, head baseline", f"{rec['head']:.3f}", f"{rec['postings']} SkillSpan, {rec['spans']} spans"),
        ("skill recall, extractive", f"{rec['extractive']:.3f}", f"{rec['extractive'] / rec['head']:.2f}x head"),
        (
            "skill recall, abstractive",
            f"{rec['abstractive']:.3f}",
            f"{rec['abstractive_postings']} postings (head there: {rec['head_on_abstractive_sample']:.3f}), "
            f"{rec['abstractive_fallback_share']:.0%} fell back",
        ),
        (
            "NDCG@10 full / extractive / head",
            f"{rank['full']:.3f} / {rank['extractive']:.3f} / {rank['head']:.3f}",
            f"{rank['queries']} O*NET test titles × BM25 top {rank['candidates_per_query']}, base model "
            f"zero-shot; random order {rank['random']:.3f}",
        ),
        (
            "NDCG@10 full / abstractive (subset)",
            f"{rank['full_subset']:.3f} / {rank['abstractive_subset']:.3f}",
            f"first {rank['subset_queries']} queries",
        ),
        (
            "extractive speed",
            f"{speed['extractive']['per_cpu_second']:.0f} /CPU-s",
            f"{speed['extractive']['per_second']:.0f}/s wall; tokenizing full text alone: "
            f"{speed['tokenize_full_text']['per_cpu_second']:.0f} /CPU-s",
        ),
        ("abstractive speed", f"{speed['abstractive_postings_per_second']:.2f} postings/s", "2 CPU cores, greedy"),
        (
            "Redis get_many, 100 candidates",
            f"p50 {speed['redis_get_many']['p50_ms']:.2f} ms",
            f"p99 {speed['redis_get_many']['p99_ms']:.2f} ms, one pipelined round trip",
        ),
    ]
    return rows


def print_table(results: dict) -> None:
    title = f"Context compression (budget {results['config']['budget_tokens']} tokens)"
    print_rows(title, ("measure", "value", "detail"), _rows(results), left=3)
    for name, met in results["targets"].items():
        print(f"{'met' if met else 'missed'}: {name}")


def write_plot(results: dict, path: Path) -> None:
    budget = results["config"]["budget_tokens"]
    red, rec, rank, speed = (results[k] for k in ("token_reduction", "skill_recall", "ranking", "speed"))
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    ax = axes[0][0]
    ax.bar(list(red), [r["median_ratio"] for r in red.values()], label="median")
    ax.scatter(list(red), [r["p90_ratio"] for r in red.values()], color="black", zorder=3, label="p90")
    ax.axhline(MIN_MEDIAN_REDUCTION, ls="--", color="gray")
    ax.set(title="Token reduction, 665 LinkedIn postings", ylabel="full tokens / context tokens")
    ax.legend()
    ax = axes[0][1]
    ax.bar(["head", "extractive", "abstractive"], [rec["head"], rec["extractive"], rec["abstractive"]])
    ax.set(title=f"Skill recall at {budget} tokens, SkillSpan", ylabel="share of spans kept")
    ax = axes[1][0]
    ax.bar(["full", "extractive", "head"], [rank["full"], rank["extractive"], rank["head"]])
    ax.axhline(rank["random"], ls="--", color="gray", label="random order")
    lists = f"{rank['queries']} O*NET test titles x BM25 top {rank['candidates_per_query']}"
    ax.set(title=f"NDCG@10, {lists}, base model", ylabel="NDCG@10")
    ax.legend()
    ax = axes[1][1]
    ax.bar(
        ["extractive", "tokenize full"],
        [speed["extractive"]["per_cpu_second"], speed["tokenize_full_text"]["per_cpu_second"]],
    )
    ax.axhline(MIN_EXTRACTIVE_PER_CPU_SECOND, ls="--", color="gray")
    ax.set(title="Speed, one core", ylabel="postings per CPU-second")
    fig.text(0.01, 0.005, "\n".join(results["attribution"].values()), fontsize=6, va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
