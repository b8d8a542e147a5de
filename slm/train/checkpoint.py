"""Checkpoints of a training run: the trained weights, the optimizer state, the step and the config.

Layout: `<dir>/step-000050/` holding `trainable.safetensors` (only the trained tensors, fp32),
`optimizer.pt` (AdamW's state dict: tensors and numbers only, read back with
`torch.load(weights_only=True)`, so no pickled code is ever executed) and `state.json` (step and the
run's config). A checkpoint is written under a `.partial` name and renamed when complete; older
ones are then deleted, so the directory always holds one whole checkpoint.

The data needs no state: lists are a pure function of (seed, epoch, query), so the step says where
to resume. The learning rate is a function of the step. Ignores the frozen weights (the base model).
"""

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

WEIGHTS, OPTIMIZER, STATE = "trainable.safetensors", "optimizer.pt", "state.json"


def save_checkpoint(
    run_dir: Path, step: int, params: dict[str, torch.nn.Parameter], optimizer: torch.optim.Optimizer, config: dict
) -> Path:
    final = run_dir / f"step-{step:06d}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_file({name: p.detach().contiguous() for name, p in params.items()}, partial / WEIGHTS)
    torch.save(optimizer.state_dict(), partial / OPTIMIZER)
    (partial / STATE).write_text(json.dumps({"step": step, "config": config}, indent=2) + "\n")
    partial.rename(final)
    for old in run_dir.glob("step-*"):
        if old != final:
            shutil.rmtree(old)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    done = sorted(p for p in run_dir.glob("step-*") if not p.name.endswith(".partial"))
    return done[-1] if done else None


def load_checkpoint(
    path: Path, params: dict[str, torch.nn.Parameter], optimizer: torch.optim.Optimizer, config: dict
) -> int:
    """Restore weights and optimizer in place; the step to resume from."""
    state = json.loads((path / STATE).read_text())
    if state["config"] != config:
        raise ValueError(f"checkpoint {path} is of another run (config differs); use a fresh directory")
    weights = load_file(path / WEIGHTS)
    if weights.keys() != params.keys():
        raise ValueError(f"checkpoint {path} trains other tensors than this run")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(weights[name])
    optimizer.load_state_dict(torch.load(path / OPTIMIZER, weights_only=True))
    return int(state["step"])
