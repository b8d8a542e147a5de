"""The gated MLPs a structured pruner cuts: one per decoder layer, gate/up rows and down columns.

Contract: `mlps(model)` returns each decoder layer's MLP, checked to be the gated form that Llama,
Mistral, Qwen2 and Qwen3 share (`gate_proj`, `up_proj`: hidden -> intermediate; `down_proj`:
intermediate -> hidden; no biases). `narrow(mlp, kept, down)` keeps the intermediate neurons `kept`
(gate and up rows) and installs `down` (hidden x len(kept)) as the down projection, in place.
Ignores: attention heads and whole layers (not pruned here).
"""

import torch
from transformers import PreTrainedModel

_PROJECTIONS = ("gate_proj", "up_proj", "down_proj")


def mlps(model: PreTrainedModel) -> list[torch.nn.Module]:
    layers = getattr(model.get_decoder(), "layers", None)
    if layers is None:
        raise ValueError(f"{type(model).__name__} has no decoder `layers`; cannot prune its MLPs")
    found = [getattr(layer, "mlp", None) for layer in layers]
    for i, mlp in enumerate(found):
        linears = [getattr(mlp, name, None) for name in _PROJECTIONS]
        if not all(isinstance(x, torch.nn.Linear) and x.bias is None for x in linears):
            raise ValueError(f"layer {i}'s MLP is not a bias-free gated MLP ({', '.join(_PROJECTIONS)})")
    return found


def narrow(mlp: torch.nn.Module, kept: torch.Tensor, down: torch.Tensor) -> None:
    """Keep intermediate neurons `kept` (sorted indices); `down` becomes the down projection."""
    for name in ("gate_proj", "up_proj"):
        setattr(mlp, name, _linear(getattr(mlp, name).weight[kept]))
    mlp.down_proj = _linear(down.to(mlp.down_proj.weight))
    if hasattr(mlp, "intermediate_size"):
        mlp.intermediate_size = len(kept)


def _linear(weight: torch.Tensor) -> torch.nn.Linear:
    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, bias=False, device=weight.device, dtype=weight.dtype)
    layer.weight = torch.nn.Parameter(weight.detach().clone(), requires_grad=False)
    return layer
