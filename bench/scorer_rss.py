"""Peak RSS of a fresh process that does what a worker does: load one scorer, warm up, score.

`fresh_process_rss(model, budget, mode, kind, requests, data)` runs `python -m bench.scorer_rss` in a
new interpreter with that run (and this process's torch threads) as JSON on stdin; the child prints
{"peak_rss_mb": ...}: its high-water mark (VmHWM), with nothing else loaded. `bench.scorer` runs it
once for SmolLM2 to check the in-process per-row estimate against it. A child of the benchmark, not
one: it has no command line of its own.
"""

import json
import subprocess
import sys
from pathlib import Path

import torch

from bench.machine import peak_rss_mb
from bench.scorer_inputs import workload
from slm.scorer import Scorer


def fresh_process_rss(model: Path, budget: int, mode: str, kind: str, requests: int, data: Path) -> float:
    """Run this module in a new interpreter and return its peak RSS in MB."""
    spec = {"model": str(model), "budget": budget, "mode": mode, "kind": kind, "requests": requests}
    spec |= {"data": str(data), "threads": torch.get_num_threads()}
    child = [sys.executable, "-m", "bench.scorer_rss"]
    out = subprocess.run(child, input=json.dumps(spec), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def main() -> None:
    spec = json.loads(sys.stdin.read())
    scorer = Scorer.load(spec["model"], threads=spec["threads"], token_budget=spec["budget"], mode=spec["mode"])
    scorer.score_encoded(workload(Path(spec["data"]), scorer.tokenizer, spec["kind"], spec["requests"]))
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
