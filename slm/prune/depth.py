"""Layer dropping, the depth baseline: remove whole decoder layers, those whose absence changes the scores least.

Contract: `layers_kept(depth, keep)` is how many of `depth` layers a kept share `keep` leaves (at least
one). `drop_errors(engine, requests)` skips each layer in turn (its output replaced by its input)
and returns, per layer, the mean squared change of the scores' logits l_yes - l_no over the
requests: what the ranker loses without it. (The hidden states' own change, ShortGPT's Block
Influence 1 - cos(h_in, h_out), picked Gemma 3 270M's top layers, whose removal sent every score
to 0: its residual stream is so large that every layer's cosine is near 1.)
`least_influential(errors, kept)` picks the layers to drop, the lowest errors, each judged alone.
`drop_layers(model, drop)` removes them in
place and keeps the config true: `num_hidden_layers`, and `layer_types` (Gemma 3's sliding and full
attention layers, Qwen3's) filtered to the layers left, so each kept layer keeps its attention type
and window; the layers and their attentions are renumbered (`layer_idx`), as a fresh load numbers
them. The result is a plain, shallower directory of the same architecture.
Ignores: re-fitting the layers left (recovery training does that) and the MLPs and heads.
"""

from collections.abc import Sequence

import torch
from transformers import PreTrainedModel

from slm.engine import ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.prune.layers import decoder_layers


def layers_kept(depth: int, keep: float) -> int:
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    return max(1, round(depth * keep))


def drop_errors(engine: ScoringEngine, requests: Sequence[ScoreRequest]) -> list[float]:
    """Per layer, the mean squared change of l_yes - l_no over `requests` with that layer skipped."""
    batches = list(engine.batches(requests))

    def logits() -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat([engine.logits(batch) for batch in batches])

    full = logits()
    errors = []
    for layer in decoder_layers(engine.body):
        handle = layer.register_forward_hook(_skipped, with_kwargs=True)
        try:
            errors.append(float(((logits() - full) ** 2).mean()))
        finally:
            handle.remove()
    return errors


def _skipped(_module: torch.nn.Module, args: tuple, kwargs: dict, out: torch.Tensor | tuple) -> torch.Tensor | tuple:
    """A forward hook that makes a decoder layer the identity: its output is its input."""
    before = args[0] if args else kwargs["hidden_states"]
    return (before, *out[1:]) if isinstance(out, tuple) else before


def least_influential(errors: list[float], kept: int) -> list[int]:
    """The `len(errors) - kept` layers of lowest error, in layer order."""
    order = sorted(range(len(errors)), key=lambda i: errors[i])
    return sorted(order[: len(errors) - kept])


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
