"""What the default-model benchmarks share at their edges: the command line, the table, the JSON.

`model_parser(doc, out_name)` and `parse` read --model, --onet-dir, --quick and --out
(bench/results/<out_name>) and refuse a missing model; `described(...)` wraps rows with the workload,
the machine and the attribution; `print_rows` prints a table; `finish(result, out, table, plot)` prints
the table and writes the JSON and the plot beside it. Ignores what is measured.
"""

import argparse
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.machine import machine
from slm.data.onet import ATTRIBUTION, DEFAULT_ONET_DIR

ROOT = Path(__file__).resolve().parents[1]
QUERIES, QUICK_QUERIES = 100, 30


def model_parser(doc: str, out_name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / ".rankstream" / "models" / "default")
    parser.add_argument("--onet-dir", type=Path, default=DEFAULT_ONET_DIR)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_QUERIES} queries instead of {QUERIES}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / out_name)
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if not (args.model / "rankstream.json").is_file():
        raise SystemExit(f"no model at {args.model}: run `rankstream model build` (or `make model`) first")
    args.queries = QUICK_QUERIES if args.quick else QUERIES
    return args


def finish(result: dict, out: Path, table: Callable[[dict], None], plot: Callable[[dict, Path], None]) -> None:
    table(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


def print_rows(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for cells in rows:
        table.add_row(*cells)
    Console(width=120).print(table)


def described(model: Path, queries: int, seed: int, rows: list[dict], **about: object) -> dict:
    """A benchmark's JSON: the model, the workload, the machine, the rows and the data's attribution."""
    header = {"model": str(model), "queries": queries, "split": "test", "seed": seed, **about}
    return {**header, "machine": machine(), "rows": rows, "attribution": ATTRIBUTION}
