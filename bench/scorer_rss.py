"""Peak RSS of a fresh process that does what a worker does: load one scorer, warm up, score.

    python -m bench.scorer_rss --model DIR --budget 2048 --mode multi-item --kind compressed

prints {"peak_rss_mb": ...}: the process's high-water mark (VmHWM), with nothing else loaded.
`bench.scorer` runs it once for SmolLM2 to check the in-process per-row estimate against it.
"""

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.machine import peak_rss_mb
from bench.scorer_inputs import workload
from slm.scorer import Scorer


def fresh_process_rss(model: Path, budget: int, mode: str, kind: str, requests: int, data: Path) -> float:
    """Run this module in a new interpreter and return its peak RSS in MB."""
    args = ["--model", str(model), "--budget", str(budget), "--mode", mode, "--kind", kind]
    args += ["--requests", str(requests), "--data", str(data)]
    out = subprocess.run([sys.executable, "-m", "bench.scorer_rss", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--mode", choices=("pairwise", "multi-item"), default="multi-item")
    parser.add_argument("--kind", choices=("compressed", "full"), default="compressed")
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    scorer = Scorer.load(args.model, token_budget=args.budget, mode=args.mode)
    scorer.score_encoded(workload(args.data, scorer.tokenizer, args.kind, args.requests))
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
