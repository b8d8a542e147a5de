"""`python -m bench.gpu [--device cuda|cpu] [--quick] [--out FILE]`: the CUDA path measured on one accelerator.

One run, three sections, printed as tables and written as JSON and a plot (bench/results/gpu.json, .png):

1. correctness (`bench.gpu_checks`): on tiny Llama and Gemma 3 (sliding window) models, the engine
   on the device (bf16 on CUDA, fp32 on the CPU unless --dtype says otherwise): multi-item vs
   pairwise vs the CPU fp32 reference, the dense mask vs the blocks, prefix-cache hits vs misses,
   CUDA graphs vs eager (CUDA only; skipped, and said so, on the CPU). Max |ΔP(yes)| and pass/fail.
2. throughput (`bench.gpu_speed`): the paper's request (a 120-token query, 10 items of 180 tokens)
   on random-weight models of three shapes (`bench.gpu_shapes`): Qwen3-0.6B, its OSSCAR-pruned
   375M (MLP 3072 → 512) and the default model's (Gemma 3 270M); items/s at the best token budget,
   P50/P99 per request under simulated Poisson load, against LinkedIn's 2,200 items/s per H100 at
   P99 < 500 ms. Full shapes on CUDA; 2 layers on the CPU; --quick: tiny shapes (the smoke run).
3. worker: the engine path only (`WORKER` says why).

Exits non-zero, after writing its output, when a correctness check fails. docs/gpu.md has the steps
to run it on a bare GPU machine; bench/results holds what ran so far.
"""

import gc
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
import transformers

from bench.gpu_checks import checks
from bench.gpu_report import print_tables, write_plot
from bench.gpu_shapes import FEW_LAYERS, FULL, TINY, Scale, build, scaled, shapes
from bench.gpu_speed import CPU_PLAN, CUDA_PLAN, ITEM_TOKENS, ITEMS, LINKEDIN, LOADS, QUERY_TOKENS, measure
from bench.machine import machine
from bench.runner import ROOT, bench_parser, finish, parse

WORKER = {
    "ran": False,
    "path": "engine only",
    "reason": (
        "the worker end to end needs a Kafka broker (the Tansu binary), redis-server and the "
        "confluent-kafka client, none of which are on the bare GPU machine or travel with the tree; "
        "with them carried, `python -m bench.load` measures it"
    ),
}
OWED = "CPU run: the GPU figures are owed (no H200 run has happened yet; docs/gpu.md has the command)"
SHAPE_FACTS = (
    "model_type",
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "sliding_window",
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(__doc__, "gpu.json", "tiny shapes (2 layers, widths / 8): the smoke run")
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", choices=("cuda", "cpu"), default=default_device, help="where the engine runs")
    parser.add_argument("--dtype", choices=("bfloat16", "float32"), help="bfloat16 on CUDA, float32 on the CPU")
    default_model = ROOT / ".rankstream" / "models" / "default"
    parser.add_argument("--default-model", type=Path, default=default_model, help="its config.json, if any")
    args = parse(parser, argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here")
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype or ("bfloat16" if device.type == "cuda" else "float32"))
    scale = TINY if args.quick else FULL if device.type == "cuda" else FEW_LAYERS
    result = run(device, dtype, scale, args.default_model)
    finish(result, args.out, print_tables, write_plot)
    if not result["correctness"]["passed"]:
        raise SystemExit("a correctness check failed (see the table)")


def run(device: torch.device, dtype: torch.dtype, scale: Scale, default_model: Path) -> dict:
    started = time.perf_counter()
    rows = checks(device, dtype)
    plan = CUDA_PLAN if device.type == "cuda" else CPU_PLAN
    measured = []
    for name, config in shapes(default_model).items():
        model = build(scaled(config, scale), device, dtype)
        facts = {key: getattr(model.config, key, None) for key in SHAPE_FACTS}
        measured.append({"shape": name, "config": facts, **measure(model, plan)})
        del model
        _release(device)
    return {
        "status": f"measured on {_device_name(device)}" if device.type == "cuda" else OWED,
        "device": {
            "type": device.type,
            "name": _device_name(device),
            "dtype": str(dtype).removeprefix("torch."),
            "cuda": torch.version.cuda,
            "transformers": transformers.__version__,
        },
        "machine": machine(),
        "scale": scale.name,
        "correctness": {"passed": all(r.get("passed", True) for r in rows), "rows": rows},
        "throughput": {
            "workload": {"query_tokens": QUERY_TOKENS, "items": ITEMS, "item_tokens": ITEM_TOKENS, "loads": LOADS},
            "plan": asdict(plan),
            "linkedin": LINKEDIN,
            "comparable_to_linkedin": device.type == "cuda" and scale == FULL,
            "shapes": measured,
        },
        "worker": WORKER,
        "seconds": time.perf_counter() - started,
    }


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else str(machine()["cpu"])


def _release(device: torch.device) -> None:
    """Free one shape's model before the next is built."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
