"""Layer dropping, the depth baseline: remove whole decoder layers, those that change the hidden states least.

Contract: `layers_kept(depth, keep)` is how many of `depth` layers a kept share `keep` leaves (at least
one). `least_influential(influence, kept)` picks the layers to drop: the lowest Block Influence
(Men et al., "ShortGPT: Layers in Large Language Models are More Redundant Than You Expect", 2024),
BI_i = 1 - mean over calibration tokens of cos(h_in, h_out) of layer i (`slm.prune.calibrate`): a
layer whose output points where its input did adds least. `drop_layers(model, drop)` removes them in
place and keeps the config true: `num_hidden_layers`, and `layer_types` (Gemma 3's sliding and full
attention layers, Qwen3's) filtered to the layers left, so each kept layer keeps its attention type
and window; the layers and their attentions are renumbered (`layer_idx`), as a fresh load numbers
them. The result is a plain, shallower directory of the same architecture.
Ignores: re-fitting the layers left (recovery training does that) and the MLPs and heads.
"""

import torch
from transformers import PreTrainedModel

from slm.prune.layers import decoder_layers


def layers_kept(depth: int, keep: float) -> int:
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    return max(1, round(depth * keep))


def least_influential(influence: list[float], kept: int) -> list[int]:
    """The `len(influence) - kept` layers of lowest influence, in layer order."""
    order = sorted(range(len(influence)), key=lambda i: influence[i])
    return sorted(order[: len(influence) - kept])


def drop_layers(model: PreTrainedModel, drop: list[int]) -> None:
    layers = decoder_layers(model)
    if any(not 0 <= i < len(layers) for i in drop) or len(set(drop)) >= len(layers):
        raise ValueError(f"cannot drop layers {drop} of {len(layers)}: at least one must stay")
    kept = [i for i in range(len(layers)) if i not in set(drop)]
    body = model.get_decoder()
    body.layers = torch.nn.ModuleList(layers[i] for i in kept)
    for new, layer in enumerate(body.layers):
        for module in (layer, getattr(layer, "self_attn", None)):
            if module is not None and hasattr(module, "layer_idx"):
                module.layer_idx = new
    config = model.config
    config.num_hidden_layers = len(kept)
    types = getattr(config, "layer_types", None)
    if types is not None:
        config.layer_types = [types[i] for i in kept]
