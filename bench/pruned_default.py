"""`python -m bench.pruned_default DIR [DIR ...] [--whole-splits | --split-queries N] [--speed-rounds N]`:
does the pruned build keep its teacher's quality, and how much faster is it?

Each DIR is a `rankstream model build --prune KEEP [--seed S] --out DIR` result: the student in DIR,
its teacher in DIR-teacher (`slm.train.distill`). Steps:
1. Measure each build's teacher, then its student, in a process of its own (`bench.pruning_row`:
   parameters, NDCG@10 on the test and unseen samples or the whole splits, items/s with no cache,
   served items/s, peak RSS).
2. Measure the student's speedup over its teacher in one process, `--speed-rounds` paired rounds
   (`bench.speedup`; both compiled with `--compile`): the rows' own items/s come from processes
   minutes apart, which a shared machine's drift moves by more than the margin measured.
3. Per build: the issue's goals (non-embedding parameters >= 35% fewer, NDCG@10 >= 98% of the
   teacher's on both splits, the paired speedup >= 1.3x) and the build's own figures from its manifests
   (its evaluations of 16 queries per split, seed, seconds); across builds, the spread (min, max) of each figure.
Writes bench/results/pruned_default.json and .png. Ignores how the builds were made and the grid of
methods (`bench.pruning`).
"""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.pruning_row import run_row  # noqa: E402
from bench.runner import bench_parser, described, finish, parse, print_rows, save_figure  # noqa: E402
from bench.speedup import run_speedup  # noqa: E402
from slm.manifest import Manifest, read_manifest  # noqa: E402
from slm.train.distill import teacher_dir  # noqa: E402

SPLITS = ("test", "unseen")
# The goals for the pruned default (5/6).
GOAL_FEWER_NON_EMBEDDING = 0.35
GOAL_NDCG_SHARE = 0.98
GOAL_SPEEDUP = 1.3
# Paired rounds of the speedup (`bench.speedup`, 21-28 s each for the default on 2 cores): single rounds
# of one run spread 1.18-1.43x on the Xeon, the medians of runs of 12-40 rounds 1.31-1.38x (docs/results.md).
SPEED_ROUNDS, QUICK_SPEED_ROUNDS = 20, 5


def build_figures(student: Manifest) -> dict:
    """What the build itself recorded: its seed, seconds and both models' own evaluations (16 queries per split)."""
    teacher = student.teacher
    figures: dict = {"seed": student.training.seed, "build_seconds": student.build_seconds}
    for split in SPLITS:
        figures[f"build_ndcg@10_{split}"] = student.evaluation[split].model["ndcg@10"]
        figures[f"build_teacher_ndcg@10_{split}"] = teacher.evaluation[split].model["ndcg@10"]
    return figures


def goals(teacher: dict, student: dict, speedup: float) -> dict:
    fewer = 1 - student["non_embedding_parameters_m"] / teacher["non_embedding_parameters_m"]
    shares = {split: student[f"ndcg@10_{split}"] / teacher[f"ndcg@10_{split}"] for split in SPLITS}
    return {
        "fewer_non_embedding": round(fewer, 3),
        **{f"ndcg_share_{split}": round(share, 3) for split, share in shares.items()},
        "speedup": speedup,  # bench.speedup's median, rounded as its range is: inside it
        "met": fewer >= GOAL_FEWER_NON_EMBEDDING
        and min(shares.values()) >= GOAL_NDCG_SHARE
        and speedup >= GOAL_SPEEDUP,
    }


def run(builds: Sequence[Path], onet_dir: Path, queries: int | None, threads: int | None, speed: dict) -> dict:
    """`speed`: `bench.speedup.run_speedup`'s `rounds` and `compile`."""
    rows, per_build = [], []
    for build in builds:
        teacher = run_row(teacher_dir(build), onet_dir, queries, threads)
        student = run_row(build, onet_dir, queries, threads)
        paired = run_speedup(teacher_dir(build), build, onet_dir, threads=threads, **speed)
        rows += [
            {"model": "teacher", "build": build.name, **teacher},
            {"model": "student", "build": build.name, **student},
        ]
        figures = {"build": build.name, **build_figures(read_manifest(build))}
        per_build.append({**figures, **goals(teacher, student, paired["speedup"]), "speed": paired})
    spread = {
        key: [min(b[key] for b in per_build), max(b[key] for b in per_build)]
        for key in per_build[0]
        if key not in ("build", "met", "speed")
    }
    return described(builds[0], rows[0]["queries_test"], rows, builds=per_build, spread=spread)


def print_table(result: dict) -> None:
    columns = ("build", "model", "non-emb M", "items/s", "served/s", "RSS MB", "test", "unseen")
    cells = [
        (
            r["build"],
            r["model"],
            f"{r['non_embedding_parameters_m']:.1f}",
            f"{r['items_per_s']:.0f}",
            *(f"{r[k]:.0f}" if k in r else "-" for k in ("served_items_per_s", "rss_mb")),
            *(f"{r[f'ndcg@10_{s}']:.3f}" if f"ndcg@10_{s}" in r else "-" for s in SPLITS),
        )
        for r in result["rows"]
    ]
    first = result["rows"][0]
    print_rows(
        f"pruned default: {first['queries_test']} test and {first['queries_unseen']} unseen queries", columns, cells
    )
    columns = ("build", "seed", "fewer non-emb", "NDCG share test", "unseen", "speedup", "rounds' range", "met")
    cells = [
        (
            b["build"],
            str(b["seed"]),
            f"{b['fewer_non_embedding']:.1%}",
            f"{b['ndcg_share_test']:.3f}",
            f"{b['ndcg_share_unseen']:.3f}",
            f"{b['speedup']:.2f}x",
            f"{b['speed']['speedup_min']:.2f}-{b['speed']['speedup_max']:.2f}x",
            "yes" if b["met"] else "no",
        )
        for b in result["builds"]
    ]
    title = "the goals (>= 35% fewer, >= 0.98 of the teacher's NDCG@10 on both splits, >= 1.3x paired)"
    print_rows(title, columns, cells)


def write_plot(result: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, len(SPLITS) + 1, figsize=(14, 4.5))
    rows = result["rows"]
    labels = [f"{r['build']}\n{r['model']}" for r in rows]
    colors = ["grey" if r["model"] == "teacher" else "C1" for r in rows]
    for axis, split in zip(axes, SPLITS, strict=False):
        axis.bar(labels, [r[f"ndcg@10_{split}"] for r in rows], color=colors)
        axis.set_ylabel(f"NDCG@10, {rows[0][f'queries_{split}']} {split} queries x BM25's top 50")
        axis.tick_params(axis="x", labelsize=7)
    builds = result["builds"]
    axes[-1].boxplot([b["speed"]["ratios"] for b in builds], tick_labels=[b["build"] for b in builds])
    axes[-1].axhline(GOAL_SPEEDUP, color="C3", linestyle="--", label=f"goal {GOAL_SPEEDUP}x")
    axes[-1].set_ylabel("student items/s over teacher's, per paired round")
    axes[-1].legend()
    fig.suptitle(f"rankstream pruned default vs its teacher, {result['machine']['threads']} CPU threads")
    save_figure(fig, path, result["attribution"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "pruned_default.json", "30 queries per split instead of 100", onet=True)
    parser.add_argument("builds", type=Path, nargs="+", help="pruned build directories (their teachers beside them)")
    parser.add_argument("--whole-splits", action="store_true", help="NDCG@10 on the whole test and unseen splits")
    parser.add_argument("--split-queries", type=int, default=None, help="queries per split (instead of 100, quick 30)")
    parser.add_argument("--speed-rounds", type=int, default=None, help=f"paired rounds ({SPEED_ROUNDS}, quick 5)")
    parser.add_argument("--compile", action="store_true", help="the speedup of both models compiled")
    args = parse(parser, argv)
    queries = None if args.whole_splits else args.split_queries or (30 if args.quick else 100)
    rounds = args.speed_rounds or (QUICK_SPEED_ROUNDS if args.quick else SPEED_ROUNDS)
    speed = {"rounds": rounds, "compile": args.compile}
    finish(run(args.builds, args.onet_dir, queries, args.threads, speed), args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
