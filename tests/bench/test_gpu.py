"""`bench.gpu` on the CPU: its quick run passes every correctness check and writes every section;
the Poisson simulation it reports P99s from queues and batches as it says."""

import json
from pathlib import Path

import numpy as np
import torch

from bench.gpu import OWED, main
from bench.gpu_checks import BF16_TOLERANCE, GRAPHS_SKIPPED, checks
from bench.gpu_poisson import simulate
from bench.gpu_speed import LOADS

CHECKS_PER_MODEL = 6
MODELS = 2  # tiny Llama, tiny Gemma 3 with a sliding window
SHAPES = 3  # Qwen3-0.6B, its OSSCAR-pruned 375M, the default model's


def test_the_quick_cpu_run_passes_its_checks_and_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    main(["--device", "cpu", "--quick", "--out", str(out), "--default-model", str(tmp_path)])
    result = json.loads(out.read_text())
    assert result["status"] == OWED and result["device"]["dtype"] == "float32" and result["scale"] == "tiny"

    rows = result["correctness"]["rows"]
    assert result["correctness"]["passed"] and len(rows) == MODELS * CHECKS_PER_MODEL
    skipped = [r for r in rows if "skipped" in r]
    assert [r["skipped"] for r in skipped] == [GRAPHS_SKIPPED] * MODELS
    assert all(r["passed"] and r["max_abs_diff"] < r["tolerance"] for r in rows if r not in skipped)

    throughput = result["throughput"]
    assert len(throughput["shapes"]) == SHAPES and not throughput["comparable_to_linkedin"]
    assert "270M values" in throughput["shapes"][-1]["shape"]  # no config.json in --default-model
    for shape in throughput["shapes"]:
        assert shape["best"] in shape["rows"] and all(r["items_per_s"] > 0 for r in shape["rows"])
        assert [p["load"] for p in shape["poisson"]] == list(LOADS)
        assert all(0 < p["p50_ms"] <= p["p99_ms"] for p in shape["poisson"])
    assert result["worker"]["ran"] is False and result["worker"]["reason"]
    assert out.with_suffix(".png").stat().st_size > 0


def test_the_bf16_checks_pass_within_their_tolerance() -> None:
    """The dtype a GPU runs, here on the CPU: rounding stays under the tolerance on every path."""
    rows = [r for r in checks(torch.device("cpu"), torch.bfloat16) if "skipped" not in r]
    assert rows and all(r["tolerance"] == BF16_TOLERANCE and r["passed"] for r in rows), rows


def test_the_simulated_engine_batches_what_has_arrived() -> None:
    """Alone (arrivals far apart) a request waits for nothing; at a high rate batches fill up to the
    largest measured size and the queue's wait shows in the latency."""
    service = {1: [0.1], 2: [0.15]}
    alone = simulate(service, rate=1e-4, arrivals=200, rng=np.random.default_rng(0))
    assert np.allclose(alone, 0.1)
    busy = simulate(service, rate=12.0, arrivals=2000, rng=np.random.default_rng(0))
    assert busy.min() > 0.1 - 1e-9 and np.percentile(busy, 99) > 0.3
