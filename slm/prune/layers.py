"""The gated MLPs a structured pruner cuts: one per decoder layer, gate/up rows and down columns.

Contract: `decoder_layers(model)` returns the decoder's layer stack (refusing a model without one);
`linear(weight, bias)` a frozen `nn.Linear` holding a copy of them. `mlps(model)` returns each
decoder layer's MLP, checked to be the gated form that Llama, Mistral, Qwen2/3 and Gemma 3 share
(`gate_proj`, `up_proj`: hidden -> intermediate; `down_proj`: intermediate -> hidden; no biases).
`narrow(mlp, kept, down)` keeps the intermediate neurons `kept` (gate and up rows) and installs
`down` (hidden x len(kept)) as the down projection, in place. Ignores: attention heads and whole
layers (`slm.prune.heads`, `slm.prune.depth`).
"""

import torch
from transformers import PreTrainedModel

_PROJECTIONS = ("gate_proj", "up_proj", "down_proj")


def decoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    layers = getattr(model.get_decoder(), "layers", None)
    if layers is None:
        raise ValueError(f"{type(model).__name__} has no decoder `layers`; cannot prune it")
    return layers


def mlps(model: PreTrainedModel) -> list[torch.nn.Module]:
    found = [getattr(layer, "mlp", None) for layer in decoder_layers(model)]
    for i, mlp in enumerate(found):
        linears = [getattr(mlp, name, None) for name in _PROJECTIONS]
        if not all(isinstance(x, torch.nn.Linear) and x.bias is None for x in linears):
            raise ValueError(f"layer {i}'s MLP is not a bias-free gated MLP ({', '.join(_PROJECTIONS)})")
    return found


def narrow(mlp: torch.nn.Module, kept: torch.Tensor, down: torch.Tensor) -> None:
    """Keep intermediate neurons `kept` (sorted indices); `down` becomes the down projection."""
    for name in ("gate_proj", "up_proj"):
        setattr(mlp, name, linear(getattr(mlp, name).weight[kept]))
    mlp.down_proj = linear(down.to(mlp.down_proj.weight))
    if hasattr(mlp, "intermediate_size"):
        mlp.intermediate_size = len(kept)


def linear(weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.nn.Linear:
    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, bias=bias is not None, device=weight.device, dtype=weight.dtype)
    layer.weight = torch.nn.Parameter(weight.detach().clone(), requires_grad=False)
    if bias is not None:
        layer.bias = torch.nn.Parameter(bias.detach().clone().to(weight), requires_grad=False)
    return layer
