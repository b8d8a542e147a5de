"""Which weights a run trains, and in which precision.

Contract: `make_trainable(model, layers)` freezes the model, then unfreezes its top `layers` decoder
layers and its final norm, cast to fp32 (the master weights AdamW updates), and returns them by
name. `mixed_precision(model)` is the context every training forward runs in: bf16 autocast when
the frozen weights are bf16 (their matmuls then run in native bf16, ~3-4x fp32 on this CPU; the
trainable layers' matmuls too, their weights cast per call), plain fp32 otherwise.
`freeze_for_serving(model, dtype)` casts everything back to one dtype for saving.

Frozen layers build no autograd graph (their inputs and weights need no grad), so the cost of the
bottom of the network is one inference forward. The output embedding (tied to the input embedding
in SmolLM2) is never trained: the scorer's label direction W[yes] - W[no] stays the base model's.
Ignores: LoRA and other adapters (a top-k split trains faster per token on a CPU).
"""

from contextlib import AbstractContextManager

import torch
from transformers import PreTrainedModel


def _blocks(model: PreTrainedModel, layers: int) -> list[torch.nn.Module]:
    body = model.get_decoder()
    stack, norm = getattr(body, "layers", None), getattr(body, "norm", None)
    if stack is None or norm is None:
        raise ValueError(f"{type(body).__name__} has no `layers` and `norm`; cannot pick top layers")
    if not 0 <= layers <= len(stack):
        raise ValueError(f"train_layers must be in [0, {len(stack)}], got {layers}")
    return [*stack[len(stack) - layers :], norm]


def make_trainable(model: PreTrainedModel, layers: int) -> dict[str, torch.nn.Parameter]:
    """Freeze all, then unfreeze (in fp32) the top `layers` layers and the final norm."""
    model.requires_grad_(False)
    for block in _blocks(model, layers):
        block.float().requires_grad_(True)
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def mixed_precision(model: PreTrainedModel) -> AbstractContextManager:
    low = model.get_input_embeddings().weight.dtype
    return torch.autocast(model.device.type, dtype=low, enabled=low in (torch.bfloat16, torch.float16))


def freeze_for_serving(model: PreTrainedModel, dtype: torch.dtype) -> PreTrainedModel:
    return model.requires_grad_(False).to(dtype)
