"""The evaluation table: one row per system (BM25, then each model and context kind), printed by rich.

Contract: `print_results(result, console)` renders the `EvalResult` `slm.eval.evaluate` returned; it computes
nothing but each row's NDCG@10 difference to BM25. Ignores the JSON file (the caller chose where).
"""

import sys

from rich.console import Console
from rich.table import Table

from slm.eval.metrics import CUTOFF
from slm.eval.results import EvalResult, EvalRow

# Wide enough for every column when printing to a file or pipe (rich would assume 80 and truncate).
PIPE_WIDTH = 120
HEADERS = (f"NDCG@{CUTOFF}", f"MRR@{CUTOFF}", f"Recall@{CUTOFF}")


def _caption(result: EvalResult) -> str:
    stage = result.first_stage
    k = stage.k
    return (
        f"split {result.split}: {result.queries} of {result.queries_in_split} queries (seed "
        f"{result.seed}), top {k} of {stage.retriever}; first-stage recall@{k} "
        f"{stage.recall:.3f} (whole split {stage.recall_whole_split:.3f}); "
        f"compressed contexts: {result.compressor}.\n{result.attribution}"
    )


def _context(row: EvalRow) -> str:
    if row.context == "compressed":
        return f"compressed, {row.context_budget_tokens} tokens"
    return row.context or "-"


def results_table(result: EvalResult) -> Table:
    table = Table(title=f"Ranking quality, O*NET {result.split} split", caption=_caption(result))
    table.add_column("system", no_wrap=True)
    table.add_column("context", no_wrap=True)
    for header in HEADERS:
        table.add_column(header, justify="right")
    table.add_column("vs BM25", justify="right")
    table.add_column("seconds", justify="right")
    baseline = result.rows[0].ndcg
    for row in result.rows:
        table.add_row(
            row.system,
            _context(row),
            *(f"{value:.3f}" for value in (row.ndcg, row.mrr, row.recall)),
            f"{row.ndcg - baseline:+.3f}",
            "-" if row.seconds is None else f"{row.seconds:.1f}",
        )
    return table


def print_results(result: EvalResult, console: Console | None = None) -> None:
    console = console or (Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH))
    console.print(results_table(result))
