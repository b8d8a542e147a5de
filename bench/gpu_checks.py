"""The GPU benchmark's correctness checks: the engine on the device against the CPU fp32 reference.

`checks(device, dtype)` runs, on each tiny model (`bench.gpu_shapes.tiny_models`: Llama, and
Gemma 3 with a sliding window shorter than most blocks), the same seeded requests through:
- multi-item and pairwise (block attention) against the CPU fp32 reference (`tests.slm.cases.reference`:
  each (prefix, item) alone, full logits), and against each other;
- the dense mask (the CUDA graphs' attention) against the block attention;
- a prefix cache: its hits (a second pass) against its misses (the first);
- CUDA graphs against the eager dense mask (CUDA only; after `warmup`, whose blocks exceed the
  window: what failed before the dense mask had sliding windows). On the CPU the row says it is
  skipped; where graphs raise, the row fails with the error and the run goes on.
Each row gives the largest |ΔP(yes)| over all items and passes under the dtype's tolerance.

Ignores speed (`bench.gpu_speed`).
"""

import copy
from collections.abc import Callable

import numpy as np
import torch
from transformers import PreTrainedModel

from bench.gpu_shapes import tiny_models
from bench.gpu_speed import failure
from slm.engine import EngineConfig, ScoringEngine
from slm.engine.packing import ScoreRequest
from tests.slm.cases import FP32_TOLERANCE, NO, YES, random_requests, reference, scores

# bf16 keeps 8 significant bits: on the spread tiny models the paths differ from the fp32 reference
# by up to 0.008 in P(yes) (measured on the CPU), while a masking mistake moves scores by ~0.1 (a
# window left out: 0.11 in fp32). 0.02 passes the first with margin and fails the second.
BF16_TOLERANCE = 0.02
# Requests of 1, 6 and 11 items (`random_requests`), seeded like the engine tests.
SEED = 0
# Graph buckets up to this budget; its warm-up blocks (~256 tokens) exceed the tiny window.
GRAPH_BUDGET = 1024
CACHE_BYTES = 64 << 20  # holds every prefix of the check requests
GRAPHS = "CUDA graphs vs eager"
GRAPHS_SKIPPED = "skipped: CUDA graphs need a CUDA device"


def tolerance(dtype: torch.dtype) -> float:
    return FP32_TOLERANCE if dtype == torch.float32 else BF16_TOLERANCE


def checks(device: torch.device, dtype: torch.dtype) -> list[dict]:
    requests = random_requests(SEED)
    rows = []
    for name, model in tiny_models():
        on_device = copy.deepcopy(model).to(device=device, dtype=dtype)
        rows += _model_checks(name, reference(model, requests), on_device, requests, tolerance(dtype))
    return rows


def _model_checks(
    name: str, want: np.ndarray, model: PreTrainedModel, requests: list[ScoreRequest], tol: float
) -> list[dict]:
    def run(**config: object) -> np.ndarray:
        return scores(ScoringEngine(model, YES, NO, EngineConfig(**config)), requests)  # type: ignore[arg-type]

    multi, pairwise, dense = run(), run(mode="pairwise"), run(attention="mask")
    cached = ScoringEngine(model, YES, NO, EngineConfig(prefix_cache_bytes=CACHE_BYTES))
    misses, hits = scores(cached, requests), scores(cached, requests)
    assert cached.cache is not None
    row = _row_for(name, tol)
    return [
        row("multi-item vs CPU fp32", multi, want),
        row("pairwise vs CPU fp32", pairwise, want),
        row("multi-item vs pairwise", multi, pairwise),
        row("dense mask vs blocks", dense, multi),
        row("prefix cache hits vs misses", hits, misses, f"{cached.cache.hits} hits, {cached.cache.misses} misses"),
        _graphs(name, model, requests, dense, row),
    ]


Row = Callable[..., dict]


def _row_for(model: str, tol: float) -> Row:
    def row(check: str, got: np.ndarray, want: np.ndarray, note: str = "") -> dict:
        diff = float(np.abs(got - want).max())
        return {
            "model": model,
            "check": check,
            "max_abs_diff": diff,
            "tolerance": tol,
            "passed": diff < tol,
            "note": note,
        }

    return row


def _graphs(name: str, model: PreTrainedModel, requests: list[ScoreRequest], eager: np.ndarray, row: Row) -> dict:
    """CUDA graphs (after a full-budget warm-up) against the eager dense mask; skipped off CUDA. A
    failure is a failed row, so the run goes on to measure throughput."""
    if model.device.type != "cuda":
        return {"model": name, "check": GRAPHS, "skipped": GRAPHS_SKIPPED}
    config = EngineConfig(token_budget=GRAPH_BUDGET, attention="mask", cuda_graphs=True)
    try:
        engine = ScoringEngine(model, YES, NO, config)
        engine.warmup()
        got = scores(engine, requests)
    except (RuntimeError, ValueError) as error:
        return {**row(GRAPHS, eager, eager), "max_abs_diff": None, "passed": False, "note": failure(error)}
    assert engine.graphed is not None
    return row(GRAPHS, got, eager, f"graphs of {sorted(engine.graphed.graphs)} tokens")
