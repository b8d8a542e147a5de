"""Benchmarks: `python -m bench.<name> [--quick] [--threads N] [--out FILE]` prints a table and writes
JSON and a plot (default bench/results/<name>.json and .png). All share one command line and output
(`bench.runner`) and the ranking ones one sample (`bench.sample`).

- `bench.scorer`: the scoring engine against a naive transformers baseline: items/s, useful FLOPs
  over the matmul peak, peak RSS, rank agreement (LinkedIn postings at fixed token lengths).
- `bench.compression`: context compression: token reduction (LinkedIn), skill recall (SkillSpan),
  ranking kept with full vs compressed contexts (the sample), speed, a Redis round trip.
- `bench.serving`: the default model as the worker serves it (the sample), prefix cache off and on.
- `bench.pruning`: structured MLP pruning, OSSCAR against magnitude: NDCG@10 (the sample) and speed.
- `bench.redis_cluster`: the context store on one Redis node against a local Redis Cluster: a
  100-candidate fetch's p50/p99, and the recovery from a killed master with a replica.

Importing the package sets the process preamble they all share, before any of them loads torch:
passive OpenMP waiting (an idle thread yields its core: on a machine shared with other work, spinning
threads waited on descheduled peers at every op, 7x slower beside two busy processes, 10-50x for
generation in its own thread), one tokenizer thread ("one core" means one core) and no Hub network
(every model is local). A variable already set in the environment wins; `--threads` sets torch's.
"""

import os

PROCESS_DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def _set_process_defaults() -> None:
    for name, value in PROCESS_DEFAULTS.items():
        os.environ.setdefault(name, value)


_set_process_defaults()
