"""The evaluation table: one row per system (BM25, then each model and context kind), printed by rich.

Contract: `print_results(result, console)` renders what `slm.eval.evaluate` returned; it computes
nothing but each row's NDCG@10 difference to BM25. Ignores the JSON file (the caller chose where).
"""

import sys

from rich.console import Console
from rich.table import Table

from slm.eval.metrics import CUTOFF

# Result key -> column header.
# Wide enough for every column when printing to a file or pipe (rich would assume 80 and truncate).
PIPE_WIDTH = 120
METRICS = {f"ndcg@{CUTOFF}": f"NDCG@{CUTOFF}", f"mrr@{CUTOFF}": f"MRR@{CUTOFF}", f"recall@{CUTOFF}": f"Recall@{CUTOFF}"}


def _caption(result: dict) -> str:
    stage = result["first_stage"]
    k = stage["k"]
    return (
        f"split {result['split']}: {result['queries']} of {result['queries_in_split']} queries (seed "
        f"{result['seed']}), top {k} of {stage['retriever']}; first-stage recall@{k} "
        f"{stage[f'recall@{k}']:.3f} (whole split {stage[f'recall@{k}_whole_split']:.3f}); "
        f"compressed contexts: {result['compressor']}.\n{result['attribution']}"
    )


def _context(row: dict) -> str:
    if row["context"] == "compressed":
        return f"compressed, {row['context_budget_tokens']} tokens"
    return row["context"] or "-"


def results_table(result: dict) -> Table:
    table = Table(title=f"Ranking quality, O*NET {result['split']} split", caption=_caption(result))
    table.add_column("system", no_wrap=True)
    table.add_column("context", no_wrap=True)
    for header in METRICS.values():
        table.add_column(header, justify="right")
    table.add_column("vs BM25", justify="right")
    table.add_column("seconds", justify="right")
    ndcg = f"ndcg@{CUTOFF}"
    baseline = result["rows"][0][ndcg]
    for row in result["rows"]:
        delta = row[ndcg] - baseline
        table.add_row(
            row["system"],
            _context(row),
            *(f"{row[m]:.3f}" for m in METRICS),
            f"{delta:+.3f}",
            "-" if row["seconds"] is None else f"{row['seconds']:.1f}",
        )
    return table


def print_results(result: dict, console: Console | None = None) -> None:
    console = console or (Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH))
    console.print(results_table(result))
