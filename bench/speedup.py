"""How much faster is a student than its teacher? Both in one process, measured in alternation.

`measure(teacher, student, onet_dir, rounds, compile=False) -> dict`: both models loaded as the worker
loads them with no prefix cache (compiled when asked: `RANKSTREAM_COMPILE`), on the ranking sample of
`QUERIES` test queries (`bench.sample`), each with BM25's top 50 postings as compressed contexts,
scored one query per call (`bench.serving.serve`). Steps:
1. One pass of each model, not counted: first calls allocate and warm what later calls reuse.
2. `rounds` rounds of one pass of each, the order swapped every round (teacher first in even rounds):
   whatever slows the machine within a round falls on both models alike.
3. Per round, the student's items/s over the teacher's; the speedup is their median, reported with
   their min and max and each model's mean items/s.
Why paired: on these shared 2-core machines the same model measured in processes minutes apart differs
by up to ±15%, more than the margin being measured. `run_speedup(...)` runs `measure` in a process of
its own (`python -m bench.speedup`). Ignores quality and memory (`bench.pruning_row`).
"""

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path

import torch

from bench.runner import child_json
from bench.sample import ranking_sample
from bench.serving import serve
from slm.data import compressed_contexts, model_budget_tokens
from slm.scorer import Scorer
from slm.tokens import TextEncoder

# 5 queries x 50 postings: ~250 items, ~12 s for the unpruned default on 2 cores; 20 rounds ~7 min.
QUERIES = 5


def measure(teacher: Path, student: Path, onet_dir: Path, rounds: int, compile: bool = False) -> dict:
    evals, postings = ranking_sample(onet_dir, QUERIES)
    encode = TextEncoder.load(student).encode
    contexts = compressed_contexts(list(postings.values()), encode, model_budget_tokens(student))
    scorers = {name: Scorer.load(path, compile=compile) for name, path in (("teacher", teacher), ("student", student))}
    for scorer in scorers.values():
        serve(scorer, 0, evals, contexts)
    speeds: dict[str, list[float]] = {"teacher": [], "student": []}
    for round_ in range(rounds):
        order = ("teacher", "student") if round_ % 2 == 0 else ("student", "teacher")
        for name in order:
            speeds[name].append(serve(scorers[name], 0, evals, contexts)[0]["items_per_s"])
    ratios = [s / t for s, t in zip(speeds["student"], speeds["teacher"], strict=True)]
    return {
        "rounds": rounds,
        "items_per_round": sum(map(len, evals.candidates)),
        "compiled": compile,
        "teacher_items_per_s": round(statistics.mean(speeds["teacher"]), 1),
        "student_items_per_s": round(statistics.mean(speeds["student"]), 1),
        "speedup": round(statistics.median(ratios), 3),
        "speedup_min": round(min(ratios), 3),
        "speedup_max": round(max(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
    }


def run_speedup(
    teacher: Path, student: Path, onet_dir: Path, rounds: int, threads: int | None, compile: bool = False
) -> dict:
    args = ["--teacher", str(teacher), "--student", str(student), "--onet-dir", str(onet_dir)]
    args += ["--rounds", str(rounds), "--threads", str(threads or torch.get_num_threads())]
    return child_json("bench.speedup", args + (["--compile"] if compile else []))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A student's speedup over its teacher (a child process).")
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--onet-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--compile", action="store_true", help="both models compiled (RANKSTREAM_COMPILE)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps(measure(args.teacher, args.student, args.onet_dir, args.rounds, args.compile)))


if __name__ == "__main__":
    main()
