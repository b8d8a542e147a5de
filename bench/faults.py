"""`python -m bench.faults [--quick] [--only NAME ...] [--model DIR]`: the fault suite, against a real
broker (Tansu), a real Redis and several `rankstream-worker` processes of the tiny random model.

Scenarios (each on services of its own, started and stopped with it; `bench.faults_stack`):
- kills: 3 workers (role all), one killed (`kill -9`) and replaced every 10 s through 5,000 queries:
  0 lost, every duplicate ranked as its first copy, no answer to an unknown request (`bench.faults_churn`);
- redis: Redis frozen 10 s (SIGSTOP), then killed and restarted empty, under queries: no crash, no
  loss, never a false `missing_context`, the store rebuilt (`bench.faults_redis`);
- cluster: a Redis Cluster (3 masters, a replica each) whose master is killed, then its promoted
  replica: the failover completes, the masterless slots answer `context_store_unavailable` within
  the bounded wait, never a false `missing_context`, nothing lost after a restart (`bench.faults_cluster`);
- order, order-split: postings (updates, deletes, re-creations) and queries produced together before
  the workers start (one of role all; a postings and a query worker): no query sees a posting deleted
  before it or an older version than it was sent after (`bench.faults_order`);
- bad-input: 1,000 hypothesis-fuzzed bad messages among good ones on both topics: each dead-lettered
  byte for byte with the contract's reason, every good one answered or stored (`bench.faults_input`);
- storm, storm-range: postings and query workers joining and leaving every 3 s under traffic, with the
  default (cooperative) assignment and with `range`: 0 lost (`bench.faults_churn`).
`--redis-cluster` runs the other scenarios on a local Redis Cluster (3 masters) instead of one node
(`redis`, one node's faults, is left out). `--quick` runs each in a short form (what
`tests/bench/test_faults.py` runs: about 3 minutes for all).
Prints a table, writes bench/results/faults.json (every figure and check) and faults.png (answer
latency over each run); exits 1 when a check failed. Full run: about 20 minutes on 2 busy cores.

Ignores speed (`bench.load`) and ranking quality (the tiny model's scores are noise).
"""

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.faults_churn import KILLS, QUICK_KILLS, QUICK_STORM, STORM, STORM_RANGE, kills, storm
from bench.faults_cluster import CLUSTER, QUICK_CLUSTER, cluster_faults
from bench.faults_input import BAD_INPUT, QUICK_BAD_INPUT, bad_input
from bench.faults_order import QUICK_TABLE_ORDER, TABLE_ORDER, TABLE_ORDER_SPLIT, table_order
from bench.faults_redis import QUICK_REDIS, REDIS, redis_faults
from bench.faults_report import print_table, write_plot
from bench.machine import machine
from bench.runner import ROOT, bench_parser, finish, parse
from slm.weights.tiny import TINY_NAME, build_tiny

ONE_NODE_ONLY = "redis"  # freezes and restarts the one Redis server
Scenario = Callable[[Path, Path, Any], dict]  # (model, home, its plan) -> its row
# name -> (scenario, full plan, quick plan or None: the full run only)
SCENARIOS: dict[str, tuple[Scenario, Any, Any]] = {
    "kills": (kills, KILLS, QUICK_KILLS),
    "redis": (redis_faults, REDIS, QUICK_REDIS),
    "cluster": (cluster_faults, CLUSTER, QUICK_CLUSTER),
    "order": (table_order, TABLE_ORDER, QUICK_TABLE_ORDER),
    "order-split": (table_order, TABLE_ORDER_SPLIT, None),
    "bad-input": (bad_input, BAD_INPUT, QUICK_BAD_INPUT),
    "storm": (storm, STORM, QUICK_STORM),
    "storm-range": (storm, STORM_RANGE, None),
}


def run(names: Sequence[str], quick: bool, model: Path | None, home: Path, redis_cluster: bool = False) -> dict:
    """Each named scenario in turn, under a temporary directory of its own; the tiny model built
    there first unless one is given (`redis_cluster`: what the environment asks of the stacks, recorded)."""
    started, rows = time.monotonic(), []
    with tempfile.TemporaryDirectory(prefix="rankstream-faults-") as tmp:
        served = model or build_tiny(Path(tmp) / "tiny-model", home)
        for name in names:
            scenario, full, short = SCENARIOS[name]
            plan = short if quick else full
            if plan is None:
                continue
            print(f"  {name} ...", flush=True)
            scenario_home = Path(tmp) / name
            scenario_home.mkdir()
            rows.append({"name": name, **scenario(served, scenario_home, plan)})
    return {
        "model": str(model) if model else TINY_NAME,
        "quick": quick,
        "redis_cluster": redis_cluster,
        "machine": machine(),
        "rows": rows,
        "failed": {row["name"]: [k for k, ok in row["checks"].items() if not ok] for row in rows},
        "wall_s": round(time.monotonic() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "faults.json", "the short form of each scenario (~3 minutes in all)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="these scenarios; default: all")
    # Not `model` (`bench.runner.parse` would require the default model's manifest): the tiny one is built.
    parser.add_argument("--model", dest="model_dir", type=Path, help="a model directory; default: a fresh tiny model")
    home = Path(os.environ.get("RANKSTREAM_HOME", ROOT / ".rankstream"))
    parser.add_argument("--home", type=Path, default=home, help="where the tiny model's tokenizer is cached")
    parser.add_argument("--redis-cluster", action="store_true", help="every scenario on a local Redis Cluster")
    args = parse(parser, argv)
    names = args.only or list(SCENARIOS)
    if args.redis_cluster:  # read by every scenario's stack (`bench.load_stack.stack_settings`) and its workers
        os.environ["RANKSTREAM_REDIS_CLUSTER"] = "1"
        names = [name for name in names if name != ONE_NODE_ONLY]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # stop what was started, then exit
    result = run(names, args.quick, args.model_dir, args.home, args.redis_cluster)
    for row in result["rows"]:
        for crash in row["crashes"]:
            print(f"{row['name']}: {crash}", file=sys.stderr)
    finish(result, args.out, print_table, write_plot)
    failed = {name: checks for name, checks in result["failed"].items() if checks}
    if failed:
        raise SystemExit(f"failed checks: {failed}")


if __name__ == "__main__":
    main()
