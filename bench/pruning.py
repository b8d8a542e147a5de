"""`python -m bench.pruning [--quick] [--model DIR] [--whole-splits | --split-queries N] [--recovery-steps N]
[--method M ...] [--keep K ...] [--resume]`: what structured pruning costs in ranking quality and buys in
speed and memory, by method, share kept and recovery.

The table: method (magnitude: MLP neurons by activation-weighted norm; layer-drop: whole decoder
layers whose skipping changes the scores least; osscar: MLP neurons; osscar-heads: MLP neurons and
attention heads; `--method` picks some) x share kept (`KEEP`; `QUICK_KEEP` with --quick; `--keep`
picks others) x recovery (none; sft: the build's recovery on the hard labels alone; distill: the
build's recovery itself, the listwise KL to the unpruned model's scores beside the hard labels,
`slm.train.distill`). The model is the unpruned default, the build's teacher
(.rankstream/models/default-teacher). Steps:
1. Measure the unpruned model in a process of its own (`bench.pruning_row`: parameters total and
   non-embedding, NDCG@10 on the test and unseen samples or the whole splits, items/s with no
   cache, served items/s with the worker's prefix cache, peak RSS).
2. Calibrate it once (`slm.prune.calibrate`: the build's O*NET train queries with their BM25 top 50,
   and one pass per layer skipped for layer dropping).
3. For each share and method: measure the unpruned model's items/s again, so that each row's speedup
   is a ratio taken minutes apart on one machine; prune a copy in memory (`slm.prune.prune_model`)
   and save it as a plain model directory; for each recovery, train that model by the build's
   recovery recipe (`slm.train.distill.recovery_config`: `DEFAULT_RECOVERY_STEPS` steps of its top
   layers' share, on the lists after the teacher's; O*NET's postings compressed once per run) and
   measure the result as in 1.
4. Write the JSON after every row: a run cut short (hours on 2 cores with --whole-splits) keeps what it
   measured, and `--resume` measures only the rows missing from it (same model, queries and steps,
   and the same CPU: a teacher rebuilt on another CPU model is another model, not bit-identical).
Writes bench/results/pruning.json and .png. Ignores: the build's choice of a default
(`rankstream model build`); the directories are deleted once measured.
"""

import copy
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.machine import machine
from bench.pruning_plot import write_plot
from bench.pruning_row import run_row
from bench.runner import QUICK_QUERIES_HELP, ROOT, bench_parser, described, finish, parse, print_rows
from slm.data import ContextsByJob, Onet, compressed_contexts, load_onet, model_budget_tokens
from slm.engine import EngineConfig, ScoringEngine
from slm.load import LoadedModel, load_model
from slm.prune import METHODS, Method, prune_model, save_model
from slm.prune.calibrate import DEFAULT_CALIBRATION_QUERIES, Statistics, onet_statistics
from slm.scorer import Scorer
from slm.tokens import TextEncoder
from slm.train import train
from slm.train.build import training_lists
from slm.train.config import DISTILL_WEIGHT
from slm.train.distill import DEFAULT_KEEP, DEFAULT_RECOVERY_STEPS, recovery_config, teacher_dir

# The default's share first: a run cut short has measured the rows the default model stands on.
KEEP = (DEFAULT_KEEP, 0.75)
QUICK_KEEP = (0.5,)
RECOVERIES = ("none", "sft", "distill")
# A quick run's recovery: enough steps to exercise training and saving, not to recover.
QUICK_RECOVERY_STEPS = 10
UNPRUNED = {"variant": "unpruned", "method": None, "keep": 1.0, "recovery": None, "output_error": 0.0}


@dataclass
class Table:
    """The rows so far, written to `out` after each one."""

    out: Path
    model_dir: Path
    about: dict
    rows: list[dict]

    def measured(self, variant: str) -> bool:
        return any(row["variant"] == variant for row in self.rows)

    def add(self, row: dict, unpruned_items_per_s: float) -> None:
        speedup = round(row["items_per_s"] / unpruned_items_per_s, 2)
        self.rows.append({**row, "unpruned_items_per_s": unpruned_items_per_s, "speedup_vs_unpruned": speedup})
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.result(), indent=2) + "\n")
        print(f"  {row['variant']}: {self.rows[-1]}", flush=True)

    def result(self) -> dict:
        return described(self.model_dir, self.rows[0]["queries_test"], self.rows, **self.about)


def earlier_rows(out: Path, model_dir: Path, about: dict) -> list[dict]:
    """The rows an earlier run of the same model, queries and recovery steps left in `out` (--resume)."""
    if not out.exists():
        return []
    earlier = json.loads(out.read_text())
    theirs = {"model": earlier.get("model"), **{key: earlier.get(key) for key in about}}
    if theirs != {"model": str(model_dir), **about}:
        raise SystemExit(f"{out} holds another run ({theirs}): give another --out, or run without --resume")
    cpu, theirs_cpu = machine()["cpu"], earlier["machine"]["cpu"]
    if theirs_cpu != cpu:
        raise SystemExit(f"{out} was measured on another CPU ({theirs_cpu}, not {cpu}): give another --out")
    return earlier["rows"]


def calibrated(loaded: LoadedModel, model_dir: Path, onet_dir: Path) -> Statistics:
    pieces = loaded.manifest.pieces(loaded.tokenizer)
    engine = ScoringEngine(loaded.model, pieces.yes_id, pieces.no_id, EngineConfig())
    scorer = Scorer(loaded.tokenizer, engine, "calibration", pieces)
    budget = model_budget_tokens(model_dir)
    return onet_statistics(scorer, onet_dir, budget, DEFAULT_CALIBRATION_QUERIES, heads=True, depth=True)


@dataclass(frozen=True)
class Recovery:
    """What every recovery of a run shares: the teacher, O*NET, its postings' contexts (pruning keeps
    the teacher's tokenizer and budget, so they are compressed once) and the steps."""

    teacher: LoadedModel
    onet: Onet
    contexts: ContextsByJob
    steps: int

    @classmethod
    def of(cls, teacher: LoadedModel, model_dir: Path, onet_dir: Path, steps: int) -> "Recovery":
        onet = load_onet(onet_dir)
        encode = TextEncoder(teacher.tokenizer).encode
        return cls(teacher, onet, compressed_contexts(onet.postings, encode, model_budget_tokens(model_dir)), steps)

    def train(self, pruned_dir: Path, recovery: str, out: Path) -> None:
        """Train the pruned directory's model by the build's recovery recipe (distilled from the
        teacher for "distill", the hard labels alone for "sft") and save it to `out`."""
        student = load_model(pruned_dir, dtype="auto")
        weight = DISTILL_WEIGHT if recovery == "distill" else 0.0
        depth = student.model.config.num_hidden_layers
        config = recovery_config(depth, self.teacher.manifest, self.steps, distill_weight=weight)
        lists = training_lists(self.onet, self.contexts, config)
        train(student.model, student.tokenizer, lists, config, teacher=self.teacher.model if weight else None)
        save_model(student.model, student.tokenizer, student.manifest.model_copy(update={"name": out.name}), out)


def variant(method: Method, keep: float, recovery: str) -> str:
    return f"{method} {keep * 100:g}% {recovery}"  # "osscar 37.5% distill", "magnitude 75% none"


def variant_rows(
    recipe: Recovery,
    stats: Statistics,
    method: Method,
    keep: float,
    missing: Sequence[str],
    args: dict,
    table: Table,
) -> None:
    """One method at one share: the unpruned model's speed, then the pruned model and each missing
    recovery of it, each measured and added to `table`."""
    teacher = recipe.teacher
    baseline = run_row(args["model"], args["onet"], args["queries"], args["threads"], speed_only=True)["items_per_s"]
    model = copy.deepcopy(teacher.model)
    pruned = prune_model(model, stats, method, keep)
    errors = pruned.mlp_errors + pruned.head_errors
    error = round(float(np.mean(errors)), 4) if errors else None
    with tempfile.TemporaryDirectory(prefix="bench-pruning-") as work:
        unrecovered = Path(work) / f"{method}-{round(keep * 100)}-none"
        manifest = teacher.manifest.model_copy(update={"name": unrecovered.name})
        save_model(model, teacher.tokenizer, manifest, unrecovered)
        del model
        for recovery in missing:
            out = unrecovered.with_name(f"{method}-{round(keep * 100)}-{recovery}")
            if recovery != "none":
                recipe.train(unrecovered, recovery, out)
            about = {"variant": variant(method, keep, recovery), "method": method, "keep": keep, "recovery": recovery}
            row = run_row(out, args["onet"], args["queries"], args["threads"])
            table.add({**about, "output_error": error, "cpu": machine()["cpu"], **row}, baseline)


def run(
    model_dir: Path,
    onet_dir: Path,
    queries: int | None,
    grid: tuple[Sequence[float], Sequence[Method]],
    steps: int,
    table: Table,
) -> dict:
    """The unpruned row unless `table` has it, then every (share kept, method) of `grid` in that order."""
    teacher = load_model(model_dir, dtype="auto")
    threads = torch.get_num_threads()
    args = {"model": model_dir, "onet": onet_dir, "queries": queries, "threads": threads}
    if not table.measured(UNPRUNED["variant"]):
        row = run_row(model_dir, onet_dir, queries, threads)
        table.add({**UNPRUNED, "cpu": machine()["cpu"], **row}, row["items_per_s"])
    stats: Statistics | None = None
    recipe: Recovery | None = None
    keeps, methods = grid
    for keep in keeps:
        for method in methods:
            missing = [r for r in RECOVERIES if not table.measured(variant(method, keep, r))]
            if missing:
                stats = stats or calibrated(teacher, model_dir, onet_dir)
                recipe = recipe or Recovery.of(teacher, model_dir, onet_dir, steps)
                variant_rows(recipe, stats, method, keep, missing, args, table)
    return table.result()


def print_table(result: dict) -> None:
    columns = ("variant", "params M", "non-emb M", "err", "items/s", "speedup", "served/s", "RSS MB", "test", "unseen")
    cells = []
    for r in result["rows"]:
        error = "-" if r["output_error"] is None else f"{r['output_error']:.3f}"
        size = (f"{r['parameters_m']:.1f}", f"{r['non_embedding_parameters_m']:.1f}", error)
        speed = (f"{r['items_per_s']:.0f}", f"{r['speedup_vs_unpruned']:.2f}x", f"{r['served_items_per_s']:.0f}")
        quality = (f"{r['ndcg@10_test']:.3f}", f"{r['ndcg@10_unseen']:.3f}")
        cells.append((r["variant"], *size, *speed, f"{r['rss_mb']:.0f}", *quality))
    first = result["rows"][0]
    title = f"pruning: NDCG@10 on {first['queries_test']} test and {first['queries_unseen']} unseen queries x top 50"
    print_rows(title, columns, cells)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "pruning.json", QUICK_QUERIES_HELP, model=True, onet=True)
    parser.set_defaults(model=teacher_dir(ROOT / ".rankstream" / "models" / "default"))
    parser.add_argument("--whole-splits", action="store_true", help="NDCG@10 on the whole test and unseen splits")
    steps_help = f"default {DEFAULT_RECOVERY_STEPS} (quick: {QUICK_RECOVERY_STEPS})"
    parser.add_argument("--recovery-steps", type=int, default=None, help=steps_help)
    parser.add_argument("--split-queries", type=int, default=None, help="queries per split (instead of 100, quick 30)")
    parser.add_argument("--resume", action="store_true", help="measure only the rows missing from --out")
    parser.add_argument("--method", choices=METHODS, action="append", dest="methods", help="only this one (repeat)")
    keep_help = f"only this share kept (repeat); {KEEP}"
    parser.add_argument("--keep", type=float, action="append", dest="keeps", help=keep_help)
    args = parse(parser, argv)
    steps = args.recovery_steps or (QUICK_RECOVERY_STEPS if args.quick else DEFAULT_RECOVERY_STEPS)
    queries = None if args.whole_splits else args.split_queries or args.queries
    grid = (args.keeps or (QUICK_KEEP if args.quick else KEEP), args.methods or METHODS)
    about = {"queries_per_split": queries, "recovery_steps": steps, "calibration_queries": DEFAULT_CALIBRATION_QUERIES}
    rows = earlier_rows(args.out, args.model, about) if args.resume else []
    result = run(args.model, args.onet_dir, queries, grid, steps, Table(args.out, args.model, about, rows))
    finish(result, args.out, print_table, write_plot)


if __name__ == "__main__":
    main()
