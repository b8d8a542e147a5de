"""What every benchmark shares at its edges: the command line, the table, the JSON and the plot.

`bench_parser(doc, out_name, quick, ...)` reads --quick (its help: `quick`), --threads and --out
(default bench/results/<out_name>; the plot goes beside it as .png), plus the inputs asked for:
`model` --model (default .rankstream/models/default), `onet` --onet-dir, `data` --data (the shared
data directory) and --home (the base models' home, RANKSTREAM_HOME or .rankstream).
`parse(parser, argv)` applies --threads, refuses a --model without a manifest and, for the model
benchmarks, sets `queries` (100, or 30 with --quick). `described(...)` wraps a model benchmark's rows
with the workload, the machine and the attribution; `print_rows` prints a table;
`finish(result, out, table, plot)` prints the table and writes the JSON and the plot beside it;
`child_json(module, args)` runs `python -m module args` in a process of its own (no measurement
inherits another's memory) and returns the JSON of its last line.
Ignores what is measured.
"""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from rich.console import Console
from rich.table import Table

from bench.machine import machine
from bench.sample import SEED, SPLIT
from slm.data.onet import ATTRIBUTION, DEFAULT_ONET_DIR
from slm.manifest import MANIFEST

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
QUERIES, QUICK_QUERIES = 100, 30
QUICK_QUERIES_HELP = f"{QUICK_QUERIES} queries instead of {QUERIES}"
# Wide enough that the widest table (the scorer's 12 columns) keeps one line per row in a log; a
# narrower table keeps its own width.
TABLE_WIDTH = 200


def bench_parser(
    doc: str, out_name: str, quick: str, *, model: bool = False, onet: bool = False, data: bool = False
) -> argparse.ArgumentParser:
    description = doc.split("\n\n")[0]  # the docstring's first paragraph
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--threads", type=int, default=None, help="torch threads; all cores when not given")
    out = ROOT / "bench" / "results" / out_name
    parser.add_argument("--out", type=Path, default=out, help="the JSON; the plot goes beside it")
    if model:
        parser.add_argument("--model", type=Path, default=ROOT / ".rankstream" / "models" / "default", help="model")
    if onet:
        parser.add_argument("--onet-dir", type=Path, default=DEFAULT_ONET_DIR, help="the O*NET 27.0 tables")
    if data:
        parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="holds postings/")
        home = Path(os.environ.get("RANKSTREAM_HOME", ROOT / ".rankstream"))
        parser.add_argument("--home", type=Path, default=home, help="base models and their downloads")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if "model" in args:
        if not (args.model / MANIFEST).is_file():
            raise SystemExit(f"no model at {args.model}: run `rankstream model build` (or `make model`) first")
        args.queries = QUICK_QUERIES if args.quick else QUERIES
    return args


def finish(result: dict, out: Path, table: Callable[[dict], None], plot: Callable[[dict, Path], None]) -> None:
    table(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


def save_figure(figure: "Figure", path: Path, attribution: str) -> None:
    """The plots' common end: the data's attribution at the foot, laid out, written, closed."""
    import matplotlib.pyplot as plt

    figure.text(0.01, 0.01, attribution, fontsize=5)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)


def print_rows(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> None:
    """A table of text cells: the first `left` columns left-aligned (names), the rest right (numbers)."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < left else "right")
    for cells in rows:
        table.add_row(*cells)
    Console(width=TABLE_WIDTH).print(table)


def described(model: Path, queries: int, rows: list[dict], **about: object) -> dict:
    """A model benchmark's JSON: the model, the workload, the machine, the rows and the data's attribution."""
    header = {"model": str(model), "queries": queries, "split": SPLIT, "seed": SEED, **about}
    return {**header, "machine": machine(), "rows": rows, "attribution": ATTRIBUTION}


def child_json(module: str, args: Sequence[str]) -> dict:
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
